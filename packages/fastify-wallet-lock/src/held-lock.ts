import { DependencyUnavailableError, LockLostError, withRetryAfter } from './errors.js'
import type { LockContext } from './lock-context.js'
import type { WalletLock } from './wallet-lock.js'

export interface HeldLockInit {
  resources: readonly string[]
  token: string
  fences: Readonly<Record<string, number>>
  /** The local time from which the lease runs (the earliest grant or renewal of all resources). */
  grantedAt: number
  ttlMs: number
  /** Renew the lease every ttlMs / 3 until released or lost. */
  autoExtend: boolean
}

/** Clocks drift: the local view of a lease ends this much before the store's. */
export function clockDriftMs(ttlMs: number): number {
  return Math.floor(ttlMs * 0.01) + 2
}

/** A lock the store granted: watches its lease, renews it on request, releases it once. */
export class HeldLock implements WalletLock {
  readonly resources: readonly string[]
  readonly token: string
  readonly fence: number
  readonly fences: Readonly<Record<string, number>>
  readonly degraded = false
  readonly #context: LockContext
  /** Made when first needed: most locks are released without anyone reading `signal`. */
  #controller: AbortController | undefined
  #lost = false
  readonly #acquiredAt = Date.now()
  #ttlMs: number
  #leaseTimer: NodeJS.Timeout | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #released: Promise<boolean> | undefined
  /** This lock holds the local gate of its resources until it is released or lost. */
  #holdsGate = true

  constructor(context: LockContext, init: HeldLockInit) {
    this.#context = context
    this.resources = init.resources
    this.token = init.token
    this.fences = init.fences
    this.fence = init.fences[init.resources[0] as string] as number
    this.#ttlMs = init.ttlMs
    this.#watchLease(init.grantedAt, init.ttlMs)
    if (init.autoExtend) this.#scheduleRenewal(init.ttlMs / 3)
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
      owned = await Promise.all(this.resources.map((resource) => this.#context.store.extend(resource, this.token, ttlMs)))
    } catch (error) {
      this.#context.emit({ type: 'store-error', resources: this.resources, operation: 'extend', error: error as Error, degraded: false })
      throw withRetryAfter(new DependencyUnavailableError((error as Error).message), 1000)
    }
    if (!owned.every(Boolean)) {
      this.#lose('taken')
      return false
    }
    if (this.#released !== undefined) return false // released while the extension was on its way
    this.#ttlMs = ttlMs
    this.#watchLease(startedAt, ttlMs)
    return true
  }

  release(): Promise<boolean> {
    this.#released ??= this.#release()
    return this.#released
  }

  async #release(): Promise<boolean> {
    this.#stopTimers()
    // sent before the gate opens, so the next local waiter's acquire queues behind them
    const releases = this.resources.map((resource) => this.#context.store.release(resource, this.token))
    this.#leaveGate()
    let owned = false
    try {
      owned = (await Promise.all(releases)).every(Boolean)
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
    this.#leaveGate() // the store may hand the resource to anyone now, local waiters included
    this.#controller ??= new AbortController()
    this.#controller.abort(withRetryAfter(new LockLostError(this.resources.join(', ')), 1000))
    this.#context.emit({ type: 'lost', resources: this.resources, reason })
  }

  #watchLease(from: number, ttlMs: number): void {
    clearTimeout(this.#leaseTimer)
    const validMs = from + ttlMs - clockDriftMs(ttlMs) - Date.now()
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

  #leaveGate(): void {
    if (!this.#holdsGate) return
    this.#holdsGate = false
    for (const resource of this.resources) this.#context.gate.leave(resource)
  }
}
