import { withRetryAfter } from '@moolah/plugin-kit'
import { LockLostError } from './errors.js'
import type { LockContext } from './held-lock.js'
import type { Turn } from './turn.js'

/**
 * What a multi-resource acquisition already holds while it waits for the next resource. The
 * resources are taken one by one and the lock's own renewal starts only once all are held, so
 * these are renewed here, every leaseMs / 3: a wait longer than the lease never loses an earlier
 * resource. `signal` aborts the wait when the caller's signal does, or when a held resource
 * turns out taken (the acquisition cannot succeed then).
 */
export class PartialHold {
  readonly #controller = new AbortController()
  readonly signal: AbortSignal = this.#controller.signal
  readonly #context: LockContext
  readonly #resources: readonly string[]
  readonly #leaseMs: number
  readonly #caller: AbortSignal | undefined
  readonly #forward = (): void => this.#controller.abort(this.#caller?.reason)
  readonly #held: Turn[] = []
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /** `caller` must not be aborted yet. */
  constructor(
    context: LockContext,
    resources: readonly string[],
    leaseMs: number,
    caller: AbortSignal | undefined
  ) {
    this.#context = context
    this.#resources = resources
    this.#leaseMs = leaseMs
    this.#caller = caller
    caller?.addEventListener('abort', this.#forward, { once: true })
  }

  hold(turn: Turn): void {
    this.#held.push(turn)
    // an interval, not a chain of timeouts: a renewal still on its way never schedules another
    this.#timer ??= setInterval(() => {
      void this.#renew()
    }, this.#leaseMs / 3).unref()
  }

  /** Stops renewing (idempotent). */
  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#caller?.removeEventListener('abort', this.#forward)
  }

  async #renew(): Promise<void> {
    const sentAt = Date.now()
    const held = [...this.#held]
    let owned: boolean[]
    try {
      owned = await Promise.all(
        held.map((turn) =>
          this.#context.call('renew', () =>
            this.#context.store.renew(turn.resource, turn.storeToken, this.#leaseMs)
          )
        )
      )
    } catch (error) {
      // the next tick (leaseMs / 3 later) still lands before the lease ends
      this.#context.emit?.({
        type: 'store-error',
        resources: this.#resources,
        operation: 'renew',
        error: error as Error,
        degraded: false
      })
      return
    }
    if (this.#stopped) return // the acquisition ended (or this was lost) meanwhile: nothing to add
    if (owned.every(Boolean)) {
      for (const turn of held) turn.renewed(sentAt, this.#leaseMs)
      return
    }
    this.stop() // the acquisition cannot succeed now; it gives back what it holds
    this.#context.emit?.({ type: 'lost', resources: this.#resources, reason: 'taken' })
    this.#controller.abort(
      withRetryAfter(new LockLostError(held.map((turn) => turn.resource).join(', ')), 1000)
    )
  }
}
