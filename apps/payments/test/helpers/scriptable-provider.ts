import type {
  Fulfilment,
  FulfilmentRequest,
  ProviderOutcome,
  ProviderPort,
  ProviderStatus
} from '../../src/purchases/provider-port.js'

/**
 * A test-only provider in process, shared by every app instance of a test the way one real
 * provider is. It answers by recipient with the contract's sandbox behaviours, so the tests read
 * like the black-box ones, and counts what a real provider would be held to: one fulfilment per
 * purchase id, however often it is asked.
 */
export const RECIPIENT = {
  fulfils: '+27821234567',
  declined: '+27000000402',
  fails: '+27000000500',
  /** Fulfils after `lateMs`: past the service's provider timeout. */
  late: '+27000000504',
  /** Fulfilled on the provider's side, then the connection drops before the answer. */
  droppedAfter: '+27000000599',
  /** The connection drops before the request reaches the provider: never fulfilled. */
  neverReached: '+27000000404',
  /** Fulfilled on the provider's side, and the caller never hears back (its process is gone). */
  hangsAfter: '+27000000777',
  /** A provider bug: "failed" without a failure code, an answer the ledger refuses to record. */
  malformed: '+27000000888'
} as const

export class ScriptableProvider implements ProviderPort {
  /** Purchase ids in the order `fulfil` was called for them, repeats included. */
  readonly fulfilCalls: string[] = []
  /** How many fulfilments each purchase id got. */
  readonly fulfilments = new Map<string, number>()
  /** Status questions, by purchase id. */
  readonly statusCalls: string[] = []
  /** While true, `status` cannot be asked (the provider is unreachable). */
  unreachable = false
  /** While true, `status` answers nothing until its caller gives up (aborts). */
  statusHangs = false
  /** Runs before each answer of `fulfil` (once it has decided) and `status`: a test's fault injection. */
  beforeAnswer: ((call: 'fulfil' | 'status') => Promise<void>) | undefined
  closed = 0
  readonly #outcomes = new Map<string, ProviderStatus>()
  /** The callers `hangsAfter` never answered, so a test can let them go at its end. */
  readonly #hung: Array<(error: Error) => void> = []

  constructor(private readonly lateMs = 300) {}

  async fulfil(request: FulfilmentRequest, signal: AbortSignal): Promise<ProviderOutcome> {
    this.fulfilCalls.push(request.purchaseId)
    const known = this.#outcomes.get(request.purchaseId)
    if (known !== undefined && known.status !== 'processing' && known.status !== 'not-found') return known
    switch (request.recipient) {
      case RECIPIENT.declined:
        return this.#settle(request.purchaseId, { status: 'failed', failureCode: 'DECLINED' })
      case RECIPIENT.fails:
        return this.#settle(request.purchaseId, { status: 'failed', failureCode: 'PROVIDER_ERROR' })
      case RECIPIENT.neverReached:
        throw new Error('connection reset before the request was sent')
      case RECIPIENT.malformed:
        return this.#settle(request.purchaseId, { status: 'failed' } as ProviderOutcome)
      case RECIPIENT.droppedAfter:
        this.#fulfil(request.purchaseId)
        throw new Error('socket hang up')
      case RECIPIENT.hangsAfter:
        this.#fulfil(request.purchaseId)
        return new Promise<never>((_resolve, reject) => {
          this.#hung.push(reject)
        })
      case RECIPIENT.late: {
        this.#outcomes.set(request.purchaseId, { status: 'processing' })
        const done = new Promise<ProviderOutcome>((resolve) =>
          setTimeout(() => resolve(this.#fulfil(request.purchaseId)), this.lateMs)
        )
        return new Promise<ProviderOutcome>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
          void done.then(resolve)
        })
      }
      default: {
        const outcome = this.#fulfil(request.purchaseId)
        await this.beforeAnswer?.('fulfil')
        return outcome
      }
    }
  }

  async status(purchaseId: string, signal: AbortSignal): Promise<ProviderStatus> {
    this.statusCalls.push(purchaseId)
    if (this.unreachable) throw new Error('provider unreachable')
    if (this.statusHangs) {
      return new Promise<never>((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      )
    }
    await this.beforeAnswer?.('status')
    return this.#outcomes.get(purchaseId) ?? { status: 'not-found' }
  }

  async close(): Promise<void> {
    this.closed++
  }

  /** Ends the calls `hangsAfter` left waiting (as a dead connection finally would). */
  releaseHung(): void {
    for (const reject of this.#hung.splice(0)) reject(new Error('connection gone'))
  }

  /** Fulfilments over all purchase ids: at most one each. */
  fulfilmentsOf(purchaseId: string): number {
    return this.fulfilments.get(purchaseId) ?? 0
  }

  #fulfil(purchaseId: string): ProviderOutcome {
    this.fulfilments.set(purchaseId, this.fulfilmentsOf(purchaseId) + 1)
    const fulfilment: Fulfilment = {
      pin: purchaseId.replaceAll('-', '').slice(0, 16),
      serial: `SN-${purchaseId.slice(0, 8)}`
    }
    return this.#settle(purchaseId, { status: 'fulfilled', fulfilment })
  }

  #settle(purchaseId: string, outcome: ProviderOutcome): ProviderOutcome {
    this.#outcomes.set(purchaseId, outcome)
    return outcome
  }
}
