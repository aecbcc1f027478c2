import { DependencyUnavailableError, withRetryAfter } from '@moolah/plugin-kit'
import { LockLostError, STORE_UNAVAILABLE } from './errors.js'
import type { StoreOperation, WalletLockEvent } from './events.js'
import type { LocalGate } from './local-gate.js'
import type { WalletLockStore } from './stores/store.js'
import type { Turn } from './turn.js'
import type { WalletLock } from './wallet-lock.js'

/** What a manager shares with the locks it hands out. */
export interface LockContext {
  readonly store: WalletLockStore
  readonly gate: LocalGate
  /** A store call under the plugin's timeout; a store that throws instead of rejecting rejects too. */
  call<T>(operation: StoreOperation, send: () => Promise<T>): Promise<T>
  /** Undefined without an `onEvent` listener. */
  readonly emit: ((event: WalletLockEvent) => void) | undefined
}

export interface HeldLockInit {
  resources: readonly string[]
  token: string
  fences: Readonly<Record<string, number>>
  /** The turn each resource is held under, in the order of `resources`. */
  turns: readonly Turn[]
  leaseMs: number
  /** Renew the lease every leaseMs / 3 until released or lost. */
  autoRenew: boolean
}

/**
 * A lock the store granted (to this acquisition, or to an earlier one of this process that
 * passed its turn on): watches its lease, renews it on request, releases it once.
 */
export class HeldLock implements WalletLock {
  readonly resources: readonly string[]
  readonly token: string
  readonly fence: number
  readonly fences: Readonly<Record<string, number>>
  readonly degraded = false
  readonly #context: LockContext
  readonly #turns: readonly Turn[]
  /** Made when first needed: most locks are released without anyone reading `signal`. */
  #controller: AbortController | undefined
  #lost = false
  readonly #acquiredAt = Date.now()
  #leaseMs: number
  #leaseTimer: NodeJS.Timeout | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #released: Promise<boolean> | undefined

  constructor(context: LockContext, init: HeldLockInit) {
    this.#context = context
    this.resources = init.resources
    this.token = init.token
    this.fences = init.fences
    this.fence = init.fences[init.resources[0] as string] as number
    this.#turns = init.turns
    this.#leaseMs = init.leaseMs
    this.#watchLease()
    // a passed turn's lease began before this acquisition: its first renewal may be due sooner
    if (init.autoRenew)
      this.#scheduleRenewal(
        Math.max(0, Math.min(...init.turns.map((turn) => turn.leaseFrom)) + init.leaseMs / 3 - Date.now())
      )
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  async renew(leaseMs: number = this.#leaseMs): Promise<boolean> {
    if (this.#released !== undefined || this.#lost) return false
    const startedAt = Date.now()
    let owned: boolean[]
    try {
      owned = await Promise.all(
        this.#turns.map((turn) =>
          this.#context.call('renew', () =>
            this.#context.store.renew(turn.resource, turn.storeToken, leaseMs)
          )
        )
      )
    } catch (error) {
      this.#context.emit?.({
        type: 'store-error',
        resources: this.resources,
        operation: 'renew',
        error: error as Error,
        degraded: false
      })
      throw withRetryAfter(new DependencyUnavailableError(STORE_UNAVAILABLE, { cause: error }), 1000)
    }
    if (!owned.every(Boolean)) {
      this.#lose('taken')
      return false
    }
    for (const turn of this.#turns) turn.renewed(startedAt, leaseMs) // also for a local holder it was passed to meanwhile
    if (this.#released !== undefined) return false // released while the extension was on its way
    this.#leaseMs = leaseMs
    this.#watchLease()
    return true
  }

  release(): Promise<boolean> {
    this.#released ??= this.#release()
    return this.#released
  }

  async #release(): Promise<boolean> {
    // a lost lock already left the local gate (see #lose); one still held passes its turns on
    const lost = this.#lost
    const released = releaseTurns(this.#context, this.#turns, { passOn: !lost, inGate: !lost })
    this.#stopTimers() // while the release is on its way
    let owned = false
    try {
      owned = (await released) && !lost
    } catch (error) {
      this.#context.emit?.({
        type: 'store-error',
        resources: this.resources,
        operation: 'release',
        error: error as Error,
        degraded: false
      })
    }
    this.#context.emit?.({
      type: 'released',
      resources: this.resources,
      heldMs: Date.now() - this.#acquiredAt,
      owned
    })
    return owned
  }

  #lose(reason: 'expired' | 'taken'): void {
    if (this.#released !== undefined || this.#lost) return
    this.#lost = true
    this.#stopTimers()
    // the store may hand the resource to anyone now: the local waiters ask it, nothing is passed on
    for (const resource of this.resources) this.#context.gate.leave(resource)
    this.#controller ??= new AbortController()
    this.#controller.abort(withRetryAfter(new LockLostError(this.resources.join(', ')), 1000))
    this.#context.emit?.({ type: 'lost', resources: this.resources, reason })
  }

  /** Until the first of the turns' leases would end. */
  #watchLease(): void {
    clearTimeout(this.#leaseTimer)
    const validMs = Math.min(...this.#turns.map((turn) => turn.leaseEnd)) - Date.now()
    this.#leaseTimer = setTimeout(() => this.#lose('expired'), Math.max(0, validMs))
    this.#leaseTimer.unref()
  }

  #scheduleRenewal(delayMs: number): void {
    this.#renewTimer = setTimeout(() => {
      this.renew().then(
        (held) => {
          if (held) this.#scheduleRenewal(this.#leaseMs / 3)
        },
        () => this.#scheduleRenewal(this.#leaseMs / 6) // reported as store-error; try again before the lease ends
      )
    }, delayMs)
    this.#renewTimer.unref()
  }

  #stopTimers(): void {
    clearTimeout(this.#leaseTimer)
    clearTimeout(this.#renewTimer)
  }
}

/**
 * Gives up the turns of one acquisition. With `passOn` (a held lock's release), each goes on to
 * the next caller waiting in this process when it may (no store call); the others are released
 * in the store. While `inGate` (the lock did not already leave the local gate because its lease
 * was lost), the gate of those released in the store opens once every store release is sent, so
 * a local waiter's acquire queues behind them on the connection. Resolves true when the store
 * confirmed every release it was sent (or none was needed); rejects when the store failed.
 */
export async function releaseTurns(
  context: LockContext,
  turns: readonly Turn[],
  { passOn, inGate }: { passOn: boolean; inGate: boolean }
): Promise<boolean> {
  const released: Array<Promise<boolean>> = []
  const reopen: string[] = []
  for (const turn of turns) {
    if (passOn && context.gate.pass(turn)) continue
    released.push(context.call('release', () => context.store.release(turn.resource, turn.storeToken)))
    if (inGate) reopen.push(turn.resource)
  }
  for (const resource of reopen) context.gate.leave(resource)
  return (await Promise.all(released)).every(Boolean)
}
