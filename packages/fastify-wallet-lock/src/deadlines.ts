interface Pending {
  at: number
  expire(): void
}

/**
 * Timeouts for many short calls on one coarse interval timer, instead of a timer set and
 * cleared per call (which costs about as much as the rest of a lock cycle's client work).
 * A call times out between `ms` and `ms + resolutionMs` after it started; the interval runs
 * only while calls are pending, and never keeps the process alive.
 */
export class Deadlines {
  readonly #pending = new Set<Pending>()
  readonly #resolutionMs: number
  #timer: NodeJS.Timeout | undefined

  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs
  }

  /** `promise`, or a rejection `what timed out after ms ms` if it takes longer. */
  race<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: Date.now() + ms, expire: () => reject(new Error(`${what} timed out after ${ms} ms`)) }
      this.#pending.add(pending)
      this.#timer ??= setInterval(() => this.#sweep(), this.#resolutionMs).unref()
      promise.then(
        (value) => { this.#pending.delete(pending); resolve(value) },
        (error: unknown) => { this.#pending.delete(pending); reject(error) }
      )
    })
  }

  #sweep(): void {
    const now = Date.now()
    for (const pending of this.#pending) {
      if (pending.at > now) continue
      this.#pending.delete(pending)
      pending.expire()
    }
    if (this.#pending.size > 0) return
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
