import { setTimeout as sleep } from 'node:timers/promises'
import { safeEmitter, Timeouts } from '@moolah/plugin-kit'
import type { FastifyBaseLogger, FastifyReply } from 'fastify'
import { storeUnavailable } from './errors.js'
import type { IdempotencyEvent, IdempotencyEventBase, StoreOperation } from './events.js'
import { LeaseRenewals } from './lease-renewals.js'
import {
  PLUGIN,
  resolveRouteSettings,
  type IdempotencyRouteOptions,
  type ResolvedOptions,
  type RouteSettings,
  type WaitOptions
} from './options.js'
import { readResponseBody } from './response-body.js'
import type { ClaimResult, IdempotencyStore } from './stores/store.js'
import { decodeResponse, encodeResponse, type StoredResponse } from './stored-response.js'

/** A request that owns an in-flight claim, until its response is settled (committed or released). */
export interface ClaimedRequest {
  key: string
  token: string
  route: RouteSettings
  event: IdempotencyEventBase
  reply: FastifyReply
  /** Renews this claim's lease until the response is settled. */
  renewals: LeaseRenewals<ClaimedRequest>
  /** The handler (or a later hook) threw: the claim is released whatever the status. */
  errored: boolean
  settled: boolean
}

/** A claim's answer, or the store failure (timeout included) that prevented one. */
export type ClaimOutcome = ClaimResult | { state: 'unavailable'; error: unknown }

type ReleaseReason = Extract<IdempotencyEvent, { type: 'released' }>['reason']

/**
 * The record protocol around a store: claim (giving back a claim that lands after its
 * timeout), wait for an in-flight owner, renew leases while handlers run, decode a completed
 * record, and commit or release once the response is known. Every store call runs under the
 * plugin's timeout; failures become events and log lines, never exceptions of their own.
 */
export class Claims {
  readonly options: ResolvedOptions
  readonly emit: ((event: IdempotencyEvent) => void) | undefined
  readonly #store: IdempotencyStore
  readonly #log: FastifyBaseLogger
  readonly #timeouts: Timeouts
  readonly #renewals = new Map<number, LeaseRenewals<ClaimedRequest>>()
  // Per route config object (one per route): resolved at the route's first request.
  readonly #routeSettings = new WeakMap<object, RouteSettings | null>()

  constructor(store: IdempotencyStore, options: ResolvedOptions, log: FastifyBaseLogger) {
    this.options = options
    this.emit = safeEmitter(options.onEvent, log, PLUGIN)
    this.#store = store
    this.#log = log
    this.#timeouts = new Timeouts(options.timeoutMs)
  }

  /** A route's settings, or null when it does not take part: `config.idempotency`, else `methods`. */
  routeSettings(config: { idempotency?: unknown }, method: string, url: string): RouteSettings | null {
    let settings = this.#routeSettings.get(config)
    if (settings === undefined) {
      settings = this.resolveRoute(config.idempotency, method, url, this.options.methods.has(method))
      this.#routeSettings.set(config, settings)
    }
    return settings
  }

  /** Validates and resolves one route's `config.idempotency` (`byDefault`: whether its method takes part without it). */
  resolveRoute(value: unknown, method: string, url: string, byDefault: boolean): RouteSettings | null {
    if (value === false || (value === undefined && !byDefault)) return null
    if (value === true || value === undefined) return this.options.route
    const where = `route ${method} ${url} config.idempotency`
    if (typeof value !== 'object' || value === null)
      throw new TypeError(`${PLUGIN}: ${where} must be a boolean or an object`)
    return resolveRouteSettings(value as IdempotencyRouteOptions, this.options.route, where)
  }

  /** Claims `key` for `token`; with `route.wait`, looks again while another request with the same fingerprint holds it. */
  claim(
    key: string,
    token: string,
    fingerprint: string,
    route: RouteSettings,
    event: IdempotencyEventBase
  ): Promise<ClaimOutcome> {
    return route.wait === undefined
      ? this.#claimOnce(key, token, fingerprint, route, event)
      : this.#claimAndWait(key, token, fingerprint, route, route.wait, event)
  }

  /** Starts renewing the lease of a claim this request won. */
  track(
    key: string,
    token: string,
    route: RouteSettings,
    event: IdempotencyEventBase,
    reply: FastifyReply
  ): ClaimedRequest {
    const claimed: ClaimedRequest = {
      key,
      token,
      route,
      event,
      reply,
      renewals: this.#renewalsFor(route.leaseMs),
      errored: false,
      settled: false
    }
    claimed.renewals.add(claimed)
    return claimed
  }

  /** The response a completed record holds; throws the 503 when it cannot be read (the record proves the request ran). */
  decode(bytes: Buffer, key: string, event: IdempotencyEventBase): StoredResponse {
    try {
      return decodeResponse(bytes, this.options.encryptionKey, key)
    } catch (error) {
      this.#reportStoreError('decode', event, error)
      throw storeUnavailable(error)
    }
  }

  /** onSend of a claimed request: commits the response (or releases the claim), then hands onSend's `done` the payload to send. */
  async settle(
    claimed: ClaimedRequest,
    payload: unknown,
    done: (error: Error | null, payload?: unknown) => void
  ): Promise<void> {
    let sent: unknown
    try {
      sent = await this.#settle(claimed, payload)
    } catch (error) {
      return done(error as Error)
    }
    done(null, sent)
  }

  async #settle(claimed: ClaimedRequest, payload: unknown): Promise<unknown> {
    claimed.settled = true
    claimed.renewals.delete(claimed)
    const { reply, route } = claimed
    const statusCode = reply.statusCode
    if (claimed.errored || !route.shouldStore(statusCode)) {
      await this.#release(claimed, claimed.errored ? 'error' : 'status', statusCode)
      return payload
    }
    let body
    try {
      const read = readResponseBody(payload, route.maxBodyBytes)
      body = read instanceof Promise ? await read : read
    } catch (error) {
      // A stream that failed while being buffered: nothing to store, and the client gets an error
      await this.#release(claimed, 'error', statusCode)
      throw error
    }
    if (body.status !== 'stored') {
      reply.log.warn({ reason: body.status }, `${PLUGIN}: response not stored; the key is released`)
      await this.#release(claimed, body.status, statusCode)
      return body.payload
    }
    const headers: Record<string, string | string[]> = {}
    for (const name of route.replayHeaders) {
      const value = reply.getHeader(name)
      if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : value
    }
    const record = encodeResponse(
      { statusCode, headers, body: body.body },
      this.options.encryptionKey,
      claimed.key
    )
    const committed = await this.#guarded(
      'commit',
      claimed.event,
      this.#store.commit(claimed.key, claimed.token, record, route.ttlMs)
    )
    if (committed === true) this.emit?.({ ...claimed.event, type: 'committed', statusCode, bytes: body.size })
    if (committed === false) {
      this.emit?.({ ...claimed.event, type: 'lease-lost', operation: 'commit' })
      reply.log.warn(`${PLUGIN}: lease lost before commit; the response was not stored`)
    }
    return body.payload
  }

  /** Stops every renewal timer (onClose). */
  stop(): void {
    for (const renewals of this.#renewals.values()) renewals.stop()
  }

  #claimOnce(
    key: string,
    token: string,
    fingerprint: string,
    route: RouteSettings,
    event: IdempotencyEventBase
  ): Promise<ClaimOutcome> {
    const pending = this.#store.claim(key, { token, fingerprint, leaseMs: route.leaseMs })
    return this.#timeouts.run(pending, 'claim').catch((error: unknown): ClaimOutcome => {
      this.#reportStoreError('claim', event, error)
      // A claim that lands after its timeout would block the key for a whole lease: give it back.
      pending.then((late) => late.state === 'claimed' && this.#store.release(key, token)).catch(() => {})
      return { state: 'unavailable', error }
    })
  }

  async #claimAndWait(
    key: string,
    token: string,
    fingerprint: string,
    route: RouteSettings,
    wait: Required<WaitOptions>,
    event: IdempotencyEventBase
  ): Promise<ClaimOutcome> {
    let result = await this.#claimOnce(key, token, fingerprint, route, event)
    const deadline = Date.now() + wait.maxMs
    while (result.state === 'in-flight' && result.fingerprint === fingerprint && Date.now() < deadline) {
      await sleep(wait.intervalMs)
      result = await this.#claimOnce(key, token, fingerprint, route, event)
    }
    return result
  }

  #renewalsFor(leaseMs: number): LeaseRenewals<ClaimedRequest> {
    let renewals = this.#renewals.get(leaseMs)
    if (renewals === undefined) {
      renewals = new LeaseRenewals(leaseMs, (claimed) => this.#renewOrGiveUp(claimed))
      this.#renewals.set(leaseMs, renewals)
    }
    return renewals
  }

  /**
   * One renewal tick. The tick also notices what per-request hooks (onResponse, onRequestAbort,
   * onTimeout) would, without their cost on every request: a hijacked reply that ended without
   * onSend (nothing to store: release), and a client that is gone or a socket that timed out
   * (stop renewing, so a hung handler cannot hold the key forever; if it still finishes within
   * the lease its owner-checked commit works).
   */
  async #renewOrGiveUp(claimed: ClaimedRequest): Promise<boolean> {
    const raw = claimed.reply.raw
    if (raw.writableEnded) {
      claimed.settled = true
      await this.#release(claimed, 'unstorable', claimed.reply.statusCode)
      return false
    }
    if (raw.destroyed) return false
    const owned = await this.#guarded(
      'renew',
      claimed.event,
      this.#store.renew(claimed.key, claimed.token, claimed.route.leaseMs)
    )
    if (owned === false) this.emit?.({ ...claimed.event, type: 'lease-lost', operation: 'renew' })
    return owned !== false // a failed call is retried at the next tick
  }

  async #release(claimed: ClaimedRequest, reason: ReleaseReason, statusCode: number): Promise<void> {
    const released = await this.#guarded(
      'release',
      claimed.event,
      this.#store.release(claimed.key, claimed.token)
    )
    if (released === true) this.emit?.({ ...claimed.event, type: 'released', reason, statusCode })
    if (released === false) this.emit?.({ ...claimed.event, type: 'lease-lost', operation: 'release' })
  }

  /** Runs one store call under the timeout; a failure is reported and becomes `undefined`. */
  #guarded<T>(
    operation: StoreOperation,
    event: IdempotencyEventBase,
    call: Promise<T>
  ): Promise<T | undefined> {
    // Not an async function: this is on every request's path, and each async layer costs a promise.
    return this.#timeouts.run(call, operation).catch((error: unknown) => {
      this.#reportStoreError(operation, event, error)
      return undefined
    })
  }

  #reportStoreError(operation: StoreOperation, event: IdempotencyEventBase, error: unknown): void {
    this.emit?.({ ...event, type: 'store-error', operation, error: error as Error })
    this.#log.warn({ err: error, operation, requestId: event.requestId }, `${PLUGIN}: store call failed`)
  }
}
