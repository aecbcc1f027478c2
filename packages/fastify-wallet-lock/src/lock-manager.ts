import { randomUUID } from 'node:crypto'
import { degradedLock } from './degraded-lock.js'
import { ConcurrentRequestError, DependencyUnavailableError, withRetryAfter } from './errors.js'
import type { WalletLockEvent, WalletLockEventListener } from './events.js'
import { HeldLock } from './held-lock.js'
import { LocalGate, type HeldTurn } from './local-gate.js'
import type { LockContext } from './lock-context.js'
import { PartialHold } from './partial-hold.js'
import { releaseTurns } from './release-turns.js'
import { normalizeResources } from './resources.js'
import type { LockStore } from './store.js'
import { Turn } from './turn.js'
import { checkInteger } from './validate.js'
import type { WalletLock } from './wallet-lock.js'

export type FailMode = 'closed' | 'open'

export interface AcquireOptions {
  /** Lease length; default the plugin's `ttlMs`. */
  ttlMs?: number
  /** How long to wait for busy resources, in total; 0 fails at once. Default the plugin's `waitMs`. */
  waitMs?: number
  /** Aborting it stops waiting: `acquire` rejects with `signal.reason` and takes nothing. */
  signal?: AbortSignal
  /** Renew the lease every ttlMs / 3 until released (`withLock` and routes always do). Default false. */
  autoExtend?: boolean
}

export interface WalletLockManagerOptions {
  store: LockStore
  ttlMs: number
  waitMs: number
  /** How long after a store grant a release may still pass the resource to a caller waiting in this process. */
  turnMs: number
  failMode: FailMode
  onEvent?: WalletLockEventListener | undefined
  log: { warn(obj: object, msg: string): void, error(obj: object, msg: string): void }
}

/** The store failed (not a busy resource, not an abort). */
class StoreFailure extends Error {}

/** `fastify.walletLock`: takes locks on one or several resources, all or nothing, in sorted order. */
export class WalletLockManager {
  readonly #options: WalletLockManagerOptions
  readonly #context: LockContext

  constructor(options: WalletLockManagerOptions) {
    this.#options = options
    this.#context = { store: options.store, gate: new LocalGate(options.turnMs), emit: (event) => this.#emit(event) }
  }

  /**
   * Takes every resource or none. Rejects with CONCURRENT_REQUEST (409, `retryAfter`) when one
   * stays busy past `waitMs`, with DEPENDENCY_UNAVAILABLE (503) when the store fails and
   * failMode is 'closed', and with `signal.reason` when aborted.
   */
  async acquire(resources: string | readonly string[], options: AcquireOptions = {}): Promise<WalletLock> {
    const list = normalizeResources(resources)
    checkInteger('ttlMs', options.ttlMs, 1)
    checkInteger('waitMs', options.waitMs, 0)
    options.signal?.throwIfAborted()
    const ttlMs = options.ttlMs ?? this.#options.ttlMs
    const startedAt = Date.now()
    const deadline = startedAt + (options.waitMs ?? this.#options.waitMs)
    const token = randomUUID() // 122 random bits from the CSPRNG, without a system call each time
    const fences: Record<string, number> = {}
    const turns: Turn[] = []
    // several resources: what is held is renewed while the next is waited for
    const hold = list.length > 1 ? new PartialHold(this.#context, list, ttlMs, options.signal) : undefined
    const signal = hold?.signal ?? options.signal
    try {
      // one by one in sorted order: two acquisitions never hold what the other waits for
      for (const resource of list) {
        const taken = await this.#acquireOne(list, resource, token, ttlMs, deadline, signal)
        if ('retryAfterMs' in taken) {
          this.#emit({ type: 'timeout', resources: list, resource, waitedMs: Date.now() - startedAt })
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
    if (this.#options.onEvent !== undefined) this.#emit({ type: 'acquired', resources: list, fence: fences[list[0] as string] as number, fences, waitedMs: Date.now() - startedAt })
    return new HeldLock(this.#context, { resources: list, token, fences, turns, ttlMs, autoExtend: options.autoExtend ?? false })
  }

  /**
   * Runs `fn` under the lock, renewing the lease while it runs and releasing it afterwards,
   * whatever `fn` does. When the lease is lost, `lock.signal` aborts: `fn` must stop, not commit.
   */
  async withLock<T>(resources: string | readonly string[], fn: (lock: WalletLock) => Promise<T> | T, options: Omit<AcquireOptions, 'autoExtend'> = {}): Promise<T> {
    const lock = await this.acquire(resources, { ...options, autoExtend: true })
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
  async #acquireOne(resources: readonly string[], resource: string, token: string, ttlMs: number, deadline: number, signal: AbortSignal | undefined): Promise<HeldTurn | { retryAfterMs: number }> {
    let contended = false
    const onContended = (): void => {
      if (contended) return
      contended = true
      this.#emit({ type: 'contended', resources, resource })
    }
    const { gate, store } = this.#context
    if (!gate.tryEnter(resource)) {
      onContended()
      const entry = await gate.wait(resource, ttlMs, deadline - Date.now(), signal)
      if (entry === false) return { retryAfterMs: 1000 } // the holder is in this process; its lease is not known here
      if (entry !== true) return entry
    }
    try {
      const result = await store.acquire({ resource, token, ttlMs, waitMs: Math.max(0, deadline - Date.now()), signal, onContended })
      if (!result.acquired) {
        gate.leave(resource)
        return result
      }
      return { turn: new Turn(resource, token, result.fence, result.lastFence ?? result.fence, result.grantedAt, ttlMs), fence: result.fence }
    } catch (error) {
      gate.leave(resource)
      if (signal?.aborted === true) throw error
      throw new StoreFailure('store failed', { cause: error })
    }
  }

  #storeFailed(resources: readonly string[], token: string, error: Error): WalletLock {
    const degraded = this.#options.failMode === 'open'
    this.#emit({ type: 'store-error', resources, operation: 'acquire', error, degraded })
    if (!degraded) throw withRetryAfter(new DependencyUnavailableError(error.message), 1000)
    this.#options.log.warn({ err: error, resources }, 'wallet-lock: store unavailable, going on WITHOUT a lock (failMode open)')
    return degradedLock(resources, token)
  }

  #emit(event: WalletLockEvent): void {
    try {
      this.#options.onEvent?.(event)
    } catch (err) {
      this.#options.log.error({ err, event: event.type }, 'wallet-lock: onEvent threw')
    }
  }
}
