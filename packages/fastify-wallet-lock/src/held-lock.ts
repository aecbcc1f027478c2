import { DependencyUnavailableError, LockLostError, withRetryAfter } from './errors.js'
import type { LockContext } from './lock-context.js'
import { releaseTurns } from './release-turns.js'
import type { Turn } from './turn.js'
import type { WalletLock } from './wallet-lock.js'

export interface HeldLockInit {
  resources: readonly string[]
  token: string
  fences: Readonly<Record<string, number>>
  /** The turn each resource is held under, in the order of `resources`. */
  turns: readonly Turn[]
  ttlMs: number
  /** Renew the lease every ttlMs / 3 until released or lost. */
  autoExtend: boolean
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
  #ttlMs: number
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
    this.#ttlMs = init.ttlMs
    this.#watchLease()
    // a passed turn's lease began before this acquisition: its first renewal may be due sooner
    if (init.autoExtend) this.#scheduleRenewal(Math.max(0, Math.min(...init.turns.map((turn) => turn.leaseFrom)) + init.ttlMs / 3 - Date.now()))
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    return this.#controller.signal
  }

  async extend(ttlMs: number = this.#ttlMs): Promise<boolean> {
    if (this.#released !== undefined || this.#lost) return false
    const startedAt = Date.now()
    let owned: boolean[]
    try {
      owned = await Promise.all(this.#turns.map((turn) => this.#context.store.extend(turn.resource, turn.storeToken, ttlMs)))
    } catch (error) {
      this.#context.emit({ type: 'store-error', resources: this.resources, operation: 'extend', error: error as Error, degraded: false })
      throw withRetryAfter(new DependencyUnavailableError((error as Error).message), 1000)
    }
    if (!owned.every(Boolean)) {
      this.#lose('taken')
      return false
    }
    for (const turn of this.#turns) turn.renewed(startedAt, ttlMs) // also for a local holder it was passed to meanwhile
    if (this.#released !== undefined) return false // released while the extension was on its way
    this.#ttlMs = ttlMs
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
      this.#context.emit({ type: 'store-error', resources: this.resources, operation: 'release', error: error as Error, degraded: false })
    }
    this.#context.emit({ type: 'released', resources: this.resources, heldMs: Date.now() - this.#acquiredAt, owned })
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
    this.#context.emit({ type: 'lost', resources: this.resources, reason })
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
      this.extend().then(
        (held) => { if (held) this.#scheduleRenewal(this.#ttlMs / 3) },
        () => this.#scheduleRenewal(this.#ttlMs / 6) // reported as store-error; try again before the lease ends
      )
    }, delayMs)
    this.#renewTimer.unref()
  }

  #stopTimers(): void {
    clearTimeout(this.#leaseTimer)
    clearTimeout(this.#renewTimer)
  }
}
