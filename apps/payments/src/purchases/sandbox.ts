import { createHash } from 'node:crypto'
import type { Fulfilment, FulfilmentRequest, ProviderOutcome, ProviderStatus } from './provider-port.js'

/** The recipients that make the sandbox misbehave (payments-api.md, "Purchases"); any other fulfils at once. */
export const SandboxRecipients = {
  /** Declined: `failed`, failureCode DECLINED. */
  declined: '+27000000402',
  /** Fails for certain: `failed`, failureCode PROVIDER_ERROR. */
  fails: '+27000000500',
  /** Fulfils after `delayMs` and answers only then; `processing` meanwhile. */
  late: '+27000000504',
  /** Fulfils, then the answer is lost: the connection drops. */
  answerLost: '+27000000599',
  /** The connection drops before the request arrives: never recorded, never fulfilled. */
  neverReached: '+27000000404'
} as const

export const DEFAULT_SANDBOX_DELAY_MS = 5000

/**
 * What the sandbox does with one request. Only `answer` reaches the caller; the two others
 * are the transport faults an adapter reproduces (in process: reject; over HTTP: destroy the socket).
 */
export type SandboxReply =
  | { delivery: 'answer'; outcome: ProviderOutcome }
  | { delivery: 'answer-lost' }
  | { delivery: 'never-reached' }

/** One purchase id as the sandbox knows it: being fulfilled (the late recipient) or settled. */
type SandboxRecord =
  | { state: 'processing'; outcome: Promise<ProviderOutcome>; abandon: (why: Error) => void }
  | { state: 'settled'; outcome: ProviderOutcome }

export interface SandboxOptions {
  /** How long the late recipient takes (SANDBOX_DELAY_MS). */
  delayMs?: number
}

/**
 * The sandbox provider's state, in memory: whatever carries the requests (a function call or
 * HTTP), one id is fulfilled at most once and always answers the outcome of its first request.
 */
export class Sandbox {
  readonly delayMs: number
  readonly #records = new Map<string, SandboxRecord>()
  #fulfilments = 0
  #closed = false

  constructor(options: SandboxOptions = {}) {
    this.delayMs = options.delayMs ?? DEFAULT_SANDBOX_DELAY_MS
  }

  /** How many fulfilments the sandbox has made: a test's proof of "exactly one". */
  get fulfilments(): number {
    return this.#fulfilments
  }

  /** Takes one request and settles when the sandbox has something to say about it. */
  async receive(request: FulfilmentRequest): Promise<SandboxReply> {
    if (request.recipient === SandboxRecipients.neverReached) return { delivery: 'never-reached' }
    if (this.#closed) throw new Error('the sandbox is closed')
    const outcome = await this.#outcomeOf(request)
    if (request.recipient === SandboxRecipients.answerLost) return { delivery: 'answer-lost' }
    return { delivery: 'answer', outcome }
  }

  status(purchaseId: string): ProviderStatus {
    const record = this.#records.get(purchaseId)
    if (record === undefined) return { status: 'not-found' }
    return record.state === 'processing' ? { status: 'processing' } : record.outcome
  }

  /** Stops the late fulfilments still waiting: their requests reject, their ids stay `processing`. */
  close(): void {
    this.#closed = true
    for (const record of this.#records.values()) {
      if (record.state === 'processing') record.abandon(new Error('the sandbox closed before fulfilling'))
    }
  }

  /** The id's outcome: the recorded one for an id seen before, otherwise decided now (once). */
  #outcomeOf(request: FulfilmentRequest): Promise<ProviderOutcome> {
    const { purchaseId } = request
    const record = this.#records.get(purchaseId)
    if (record !== undefined) return Promise.resolve(record.outcome)

    if (request.recipient !== SandboxRecipients.late) {
      const outcome = this.#decide(request)
      this.#records.set(purchaseId, { state: 'settled', outcome })
      return Promise.resolve(outcome)
    }
    let abandon!: (why: Error) => void
    const outcome = new Promise<ProviderOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        const decided = this.#decide(request)
        this.#records.set(purchaseId, { state: 'settled', outcome: decided })
        resolve(decided)
      }, this.delayMs)
      abandon = (why) => {
        clearTimeout(timer)
        reject(why)
      }
    })
    this.#records.set(purchaseId, { state: 'processing', outcome, abandon })
    return outcome
  }

  #decide(request: FulfilmentRequest): ProviderOutcome {
    if (request.recipient === SandboxRecipients.declined) return { status: 'failed', failureCode: 'DECLINED' }
    if (request.recipient === SandboxRecipients.fails)
      return { status: 'failed', failureCode: 'PROVIDER_ERROR' }
    this.#fulfilments++
    return { status: 'fulfilled', fulfilment: madeUpFulfilment(request) }
  }
}

/**
 * What the product delivers, made up from the purchase id (the same id always gets the same
 * values): electricity a token and its units, airtime and data a serial, vouchers a PIN and
 * a serial. The kind is read from the catalogs' ids (`flash-<network>-airtime-…`, `…-data-…`).
 */
function madeUpFulfilment(request: FulfilmentRequest): Fulfilment {
  const digits = BigInt(`0x${createHash('sha256').update(request.purchaseId).digest('hex')}`)
    .toString()
    .padStart(40, '0')
  const serial = `SBX${digits.slice(0, 12)}`
  if (request.provider === 'easypay') {
    // A made-up tariff of R2.50 per kWh.
    return {
      token: digits.slice(12, 32).replace(/(\d{4})(?=\d)/g, '$1-'),
      units: `${(request.amount / 250).toFixed(1)} kWh`
    }
  }
  if (/-(airtime|data)-/.test(request.productId)) return { serial }
  return { pin: digits.slice(12, 28), serial }
}
