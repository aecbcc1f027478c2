/**
 * Runs work one at a time, in arrival order, in process. Deposits go through one: they all meet
 * on the funding account's row anyway, and waiting here rather than on that row lock means a
 * burst of deposits holds one pool connection per instance, not all of them.
 */
export class SerialLane {
  #tail: Promise<unknown> = Promise.resolve()

  /** Runs `work` after everything queued before it; skipped (rejected) if `signal` aborted while it waited. */
  run<T>(work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const start = (): Promise<T> => {
      signal.throwIfAborted()
      return work()
    }
    const result = this.#tail.then(start, start)
    this.#tail = result.catch(() => {})
    return result
  }
}
