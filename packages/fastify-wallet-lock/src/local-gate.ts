import type { Turn } from './turn.js'
import { waitFor } from './wait.js'

/** A turn, and the fence of the acquisition that holds it. */
export interface HeldTurn {
  turn: Turn
  fence: number
}

interface Waiter {
  leaseMs: number
  wake(entry: HeldTurn | true): void
}

/**
 * In-process queue in front of the store: per resource, only one acquisition of this process
 * talks to the store at a time and the others line up here, first come first served. A hot
 * wallet then costs the store one waiter per process; the holder passes its turn straight to
 * the next in line while the turn lasts (see Turn), and after that its release and the next
 * acquire go out back to back on one connection. Correctness never rests on the gate: the store
 * alone decides who owns a resource, and passed turns use the fences the store reserved.
 */
export class LocalGate {
  /** resource → those waiting for their turn; a present key means the turn is taken. */
  readonly #lines = new Map<string, Waiter[]>()
  readonly #turnMs: number

  constructor(turnMs: number) {
    this.#turnMs = turnMs
  }

  /** True (and the turn is the caller's, to ask the store) when nobody in this process holds or waits for `resource`. */
  tryEnter(resource: string): boolean {
    if (this.#lines.has(resource)) return false
    this.#lines.set(resource, [])
    return true
  }

  /**
   * Lines up after a failed `tryEnter`: true when it is the caller's turn to ask the store, the
   * turn itself when the holder passes it on, false when `waitMs` passes first.
   */
  async wait(
    resource: string,
    leaseMs: number,
    waitMs: number,
    signal: AbortSignal | undefined
  ): Promise<HeldTurn | boolean> {
    signal?.throwIfAborted()
    if (waitMs <= 0) return false
    const line = this.#lines.get(resource) as Waiter[]
    return await waitFor<HeldTurn | boolean>(
      (wake) => {
        const waiter = { leaseMs, wake }
        line.push(waiter)
        return () => {
          line.splice(line.indexOf(waiter), 1)
        }
      },
      waitMs,
      signal,
      () => false
    )
  }

  /** Whether callers of this process wait in line for `resource`; asked by the one whose turn it is (so the line exists). */
  hasWaiters(resource: string): boolean {
    return (this.#lines.get(resource) as Waiter[]).length > 0
  }

  /** Passes `turn` to the first in line when the turn may go on to it; false (nothing done) otherwise. */
  pass(turn: Turn): boolean {
    const next = this.#lines.get(turn.resource)?.[0]
    const fence = next === undefined ? undefined : turn.pass(next.leaseMs, this.#turnMs)
    if (fence === undefined) return false
    ;(next as Waiter).wake({ turn, fence })
    return true
  }

  /** Gives the turn to the next in line, who asks the store, or frees the line. */
  leave(resource: string): void {
    const next = this.#lines.get(resource)?.[0]
    if (next === undefined) this.#lines.delete(resource)
    else next.wake(true)
  }
}
