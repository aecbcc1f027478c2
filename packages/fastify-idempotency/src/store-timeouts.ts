export class StoreTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`idempotency store ${operation} timed out after ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
  }
}

interface Pending {
  deadline: number
  settled: boolean
  expire: () => void
}

/**
 * Puts the same timeout on every store call with one timer for all of them, instead of a
 * timer per call (arming and clearing a timer per request measurably slows a replay).
 * Every call gets the same timeout, so deadlines arrive in call order: a queue whose head
 * is the next deadline, and a single unref'd timer armed for it.
 */
export class StoreTimeouts {
  readonly #timeoutMs: number
  #queue: Pending[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs
  }

  /** Settles like `promise`, or rejects with `StoreTimeoutError` once the timeout has passed. */
  run<T>(promise: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        deadline: Date.now() + this.#timeoutMs,
        settled: false,
        expire: () => reject(new StoreTimeoutError(operation, this.#timeoutMs))
      }
      this.#queue.push(pending)
      if (this.#timer === undefined) this.#arm(this.#timeoutMs)
      promise.then((value) => {
        pending.settled = true
        resolve(value)
      }, (error: unknown) => {
        pending.settled = true
        reject(error)
      })
    })
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expireDue(), delayMs)
    this.#timer.unref()
  }

  #expireDue(): void {
    this.#timer = undefined
    const now = Date.now()
    let next: Pending | undefined
    while ((next = this.#queue[this.#head]) !== undefined) {
      if (!next.settled && next.deadline > now) break
      if (!next.settled) {
        next.settled = true
        next.expire()
      }
      this.#head++
    }
    // Drop the finished front of the queue so it does not grow under steady traffic.
    this.#queue = this.#queue.slice(this.#head)
    this.#head = 0
    if (next !== undefined) this.#arm(next.deadline - now)
  }
}
