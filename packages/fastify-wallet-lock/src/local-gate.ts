import { waitInLine } from './wait-in-line.js'

/**
 * In-process queue in front of the store: per resource, only one acquisition of this process
 * talks to the store at a time and the others line up here, first come first served. A hot
 * wallet then costs the store one waiter per process, and the hand-off between two requests
 * of the same process is a release and an acquire sent back to back on one connection.
 * Correctness never rests on the gate: the store alone decides who owns a resource.
 */
export class LocalGate {
  /** resource → callbacks of those waiting for their turn; a present key means the turn is taken. */
  readonly #lines = new Map<string, Array<() => void>>()

  /** True when the caller's turn came before `waitMs` passed; `onContended` when it had to wait. */
  async enter(resource: string, waitMs: number, signal: AbortSignal | undefined, onContended: () => void): Promise<boolean> {
    signal?.throwIfAborted()
    const line = this.#lines.get(resource)
    if (line === undefined) {
      this.#lines.set(resource, [])
      return true
    }
    onContended()
    if (waitMs <= 0) return false
    return await waitInLine(line, (wake) => () => wake(true), waitMs, signal, () => false)
  }

  /** Passes the turn to the next in line. */
  leave(resource: string): void {
    const next = this.#lines.get(resource)?.[0]
    if (next === undefined) this.#lines.delete(resource)
    else next()
  }
}
