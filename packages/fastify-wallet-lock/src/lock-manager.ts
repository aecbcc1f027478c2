import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import {
  DependencyUnavailableError,
  OptionReader,
  safeEmitter,
  Timeouts,
  withRetryAfter,
  type FailMode
} from '@moolah/plugin-kit'
import { ConcurrentRequestError, STORE_UNAVAILABLE } from './errors.js'
import type { WalletLockEvent, WalletLockEventListener } from './events.js'
import { HeldLock, releaseTurns, type LockContext } from './held-lock.js'
import { LocalGate, type HeldTurn } from './local-gate.js'
import { PLUGIN } from './options.js'
import { PartialHold } from './partial-hold.js'
import type { StoreAcquireResult, StoreBusy, WalletLockStore } from './stores/store.js'
import { Turn } from './turn.js'
import type { WalletLock } from './wallet-lock.js'

export interface AcquireOptions {
  /** Lease length; default the plugin's `leaseMs`. */
  leaseMs?: number
  /** How long to wait for busy resources, in total; 0 fails at once. Default the plugin's `waitMs`. */
  waitMs?: number
  /** Aborting it stops waiting: `acquire` rejects with `signal.reason` and takes nothing. */
  signal?: AbortSignal
  /** Renew the lease every leaseMs / 3 until released (`withLock` and routes always do). Default false. */
  autoRenew?: boolean
}

export interface WalletLockManagerOptions {
  store: WalletLockStore
  /** Timeout of every store call. */
  timeoutMs: number
  leaseMs: number
  waitMs: number
  /** Longest pause between a waiter's re-checks of the store. */
  pollMs: number
  /** How long after a store grant a release may still pass the resource to a caller waiting in this process. */
  turnMs: number
  failMode: FailMode
  onEvent?: WalletLockEventListener | undefined
  /** Where a failMode 'open' warning and a throwing onEvent go: `fastify.log` for the plugin. */
  log: Pick<FastifyBaseLogger, 'warn' | 'error'>
}

/** The store failed (not a busy resource, not an abort). */
class StoreFailure extends Error {}

/**
 * `leaseMs` and `waitMs` of `acquire()` options or of a route's `config.walletLock`, checked;
 * undefined when not given (the plugin's then apply).
 */
export function readDurations(
  read: OptionReader<Pick<AcquireOptions, 'leaseMs' | 'waitMs'>>
): Pick<AcquireOptions, 'leaseMs' | 'waitMs'> {
  const integer =
    (min: number) =>
    (value: unknown): boolean =>
      value === undefined || (Number.isSafeInteger(value) && (value as number) >= min)
  return {
    leaseMs: read.check<number | undefined>('leaseMs', undefined, integer(1), 'a positive integer'),
    waitMs: read.check<number | undefined>('waitMs', undefined, integer(0), 'an integer ≥ 0')
  }
}

/** `fastify.walletLock`: takes locks on one or several resources, all or nothing, in sorted order. */
export class WalletLockManager {
  readonly #options: WalletLockManagerOptions
  readonly #context: LockContext

  constructor(options: WalletLockManagerOptions) {
    this.#options = options
    const timeouts = new Timeouts(options.timeoutMs)
    this.#context = {
      store: options.store,
      gate: new LocalGate(options.turnMs),
      call: (operation, send) => {
        try {
          return timeouts.run(send(), operation)
        } catch (error) {
          return Promise.reject(error) // a custom store that throws instead of rejecting
        }
      },
      emit: safeEmitter<WalletLockEvent>(options.onEvent, options.log, PLUGIN)
    }
  }

  /**
   * Takes every resource or none. Rejects with CONCURRENT_REQUEST (409, `retryAfter`) when one
   * stays busy past `waitMs`, with DEPENDENCY_UNAVAILABLE (503) when the store fails and
   * failMode is 'closed', and with `signal.reason` when aborted.
   */
  async acquire(resources: string | readonly string[], options: AcquireOptions = {}): Promise<WalletLock> {
    const list = normalizeResources(resources)
    if (options.leaseMs !== undefined || options.waitMs !== undefined)
      readDurations(new OptionReader(PLUGIN, options))
    options.signal?.throwIfAborted()
    const leaseMs = options.leaseMs ?? this.#options.leaseMs
    const startedAt = Date.now()
    const deadline = startedAt + (options.waitMs ?? this.#options.waitMs)
    const token = randomUUID() // 122 random bits from the CSPRNG, without a system call each time
    const fences: Record<string, number> = {}
    const turns: Turn[] = []
    // several resources: what is held is renewed while the next is waited for
    const hold = list.length > 1 ? new PartialHold(this.#context, list, leaseMs, options.signal) : undefined
    const signal = hold?.signal ?? options.signal
    try {
      // one by one in sorted order: two acquisitions never hold what the other waits for
      for (const resource of list) {
        const taken = await this.#acquireOne(list, resource, token, leaseMs, deadline, signal)
        if ('retryAfterMs' in taken) {
          this.#context.emit?.({
            type: 'timeout',
            resources: list,
            resource,
            waitedMs: Date.now() - startedAt
          })
          throw withRetryAfter(new ConcurrentRequestError(resource), taken.retryAfterMs)
        }
        fences[resource] = taken.fence
        turns.push(taken.turn)
        hold?.hold(taken.turn)
      }
      hold?.signal.throwIfAborted() // a held resource was found taken while the last one was on its way
    } catch (error) {
      hold?.stop()
      // all or nothing; never passed on: a resource renewed while waiting may have been found taken
      await releaseTurns(this.#context, turns, { passOn: false, inGate: true }).catch(() => false)
      if (!(error instanceof StoreFailure)) throw error
      return this.#storeFailed(list, token, error.cause as Error)
    }
    hold?.stop()
    this.#context.emit?.({
      type: 'acquired',
      resources: list,
      fence: fences[list[0] as string] as number,
      fences,
      waitedMs: Date.now() - startedAt
    })
    return new HeldLock(this.#context, {
      resources: list,
      token,
      fences,
      turns,
      leaseMs,
      autoRenew: options.autoRenew ?? false
    })
  }

  /**
   * Runs `fn` under the lock, renewing the lease while it runs and releasing it afterwards,
   * whatever `fn` does. When the lease is lost, `lock.signal` aborts: `fn` must stop, not commit.
   */
  async withLock<T>(
    resources: string | readonly string[],
    fn: (lock: WalletLock) => Promise<T> | T,
    options: Omit<AcquireOptions, 'autoRenew'> = {}
  ): Promise<T> {
    const lock = await this.acquire(resources, { ...options, autoRenew: true })
    try {
      return await fn(lock)
    } finally {
      await lock.release()
    }
  }

  /**
   * Waits for this process's turn at `resource` (or is passed the turn by the local holder), then
   * asks the store; gives the turn back unless the store granted the lock.
   */
  async #acquireOne(
    resources: readonly string[],
    resource: string,
    token: string,
    leaseMs: number,
    deadline: number,
    signal: AbortSignal | undefined
  ): Promise<HeldTurn | StoreBusy> {
    let contended = false
    const onContended = (): void => {
      if (contended) return
      contended = true
      this.#context.emit?.({ type: 'contended', resources, resource })
    }
    const { gate } = this.#context
    if (!gate.tryEnter(resource)) {
      onContended()
      const entry = await gate.wait(resource, leaseMs, deadline - Date.now(), signal)
      if (entry === false) return { acquired: false, retryAfterMs: 1000 } // the holder is in this process; its lease is not known here
      if (entry !== true) return entry
    }
    try {
      const result = await this.#fromStore(resource, token, leaseMs, deadline, signal, onContended)
      if (!result.acquired) {
        gate.leave(resource)
        return result
      }
      return {
        turn: new Turn(
          resource,
          token,
          result.fence,
          result.lastFence ?? result.fence,
          result.grantedAt,
          leaseMs
        ),
        fence: result.fence
      }
    } catch (error) {
      gate.leave(resource)
      // timed out, unreachable or aborted: a call that still reaches the store (or a queued token)
      // is undone by this release, which follows it on the same connection
      const undone = this.#context
        .call('release', () => this.#context.store.release(resource, token))
        .catch(() => false)
      if (signal?.aborted !== true) throw new StoreFailure('store failed', { cause: error })
      await undone // an aborted caller has left the queue when its acquire rejects
      throw error
    }
  }

  /**
   * Asks the store until it grants `resource` or `deadline` passes: one attempt; when busy, the
   * token is queued and waits for its hand-off, re-checking when the holder's lease would end and
   * at least every pollMs (jittered).
   */
  async #fromStore(
    resource: string,
    token: string,
    leaseMs: number,
    deadline: number,
    signal: AbortSignal | undefined,
    onContended: () => void
  ): Promise<StoreAcquireResult> {
    const { store, call } = this.#context
    let queued = false
    for (;;) {
      signal?.throwIfAborted()
      const waitMs = Math.max(0, deadline - Date.now())
      // fences to pass on are worth a clock read only when callers of this process wait too
      const reserve = this.#context.gate.hasWaiters(resource)
      const result = await call('acquire', () => store.acquire({ resource, token, leaseMs, waitMs, reserve }))
      if (result.acquired) return result
      onContended()
      queued ||= waitMs > 0
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        // leave the queue (or hand on what was granted meanwhile)
        if (queued) await call('release', () => store.release(resource, token))
        return result
      }
      const pauseMs =
        Math.min(remaining, result.retryAfterMs + 1, this.#options.pollMs) * (0.75 + Math.random() * 0.5)
      const grant = await store.handedOver(resource, token, pauseMs, signal)
      if (grant !== undefined) return grant
    }
  }

  #storeFailed(resources: readonly string[], token: string, error: Error): WalletLock {
    const degraded = this.#options.failMode === 'open'
    this.#context.emit?.({ type: 'store-error', resources, operation: 'acquire', error, degraded })
    if (!degraded)
      throw withRetryAfter(new DependencyUnavailableError(STORE_UNAVAILABLE, { cause: error }), 1000)
    this.#options.log.warn(
      { err: error, resources },
      `${PLUGIN}: store unavailable, going on WITHOUT a lock (failMode open)`
    )
    return degradedLock(resources, token)
  }
}

/**
 * One id or several → sorted, without duplicates. Every process sorts the same way
 * (UTF-16 code units), so two acquisitions never wait for each other in opposite orders.
 */
function normalizeResources(resources: string | readonly string[]): string[] {
  if (typeof resources === 'string' && resources !== '') return [resources] // the common case, without a Set and a sort
  const list = typeof resources === 'string' ? [resources] : resources
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError(`${PLUGIN}: resources must be a non-empty string or a non-empty array of them`)
  for (const resource of list) {
    if (typeof resource !== 'string' || resource === '')
      throw new TypeError(
        `${PLUGIN}: every resource must be a non-empty string, got ${JSON.stringify(resource)}`
      )
  }
  return [...new Set(list)].sort()
}

/**
 * What failMode 'open' returns while the store is down: no lock at all. Its fence comes from the
 * local clock (microseconds), comparable with the store's only as far as clocks agree; the
 * database's own row locks and checks are what keep such a request correct.
 */
function degradedLock(resources: readonly string[], token: string): WalletLock {
  const fence = Math.floor(Date.now() * 1000)
  return {
    resources,
    token,
    fence,
    fences: Object.fromEntries(resources.map((resource) => [resource, fence])),
    signal: new AbortController().signal,
    degraded: true,
    renew: async () => true,
    release: async () => true
  }
}
