export class StoreTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`idempotency store ${operation} timed out after ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
  }
}

/** A store call still waiting for its answer, linked to its neighbours in call order. */
interface Waiting {
  deadline: number
  operation: string
  reject: (error: Error) => void
  previous: Waiting | undefined
  next: Waiting | undefined
  linked: boolean
}

/**
 * Puts the same timeout on every store call with one timer for all of them, instead of a
 * timer per call (arming and clearing a timer per request measurably slows a replay).
 * Every call gets the same timeout, so deadlines arrive in call order: a linked list whose
 * head is the next deadline, and a single unref'd timer armed for it. A call that settles
 * unlinks itself at once, so nothing keeps finished calls (and their results) alive until
 * the timer fires: under load that retention promoted every request's promises to the old
 * generation and made garbage collection a large share of the CPU.
 */
export class StoreTimeouts {
  readonly #timeoutMs: number
  #head: Waiting | undefined
  #tail: Waiting | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs
  }

  /** Settles like `promise`, or rejects with `StoreTimeoutError` once the timeout has passed. */
  run<T>(promise: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting = this.#append(operation, reject)
      promise.then((value) => {
        this.#unlink(waiting)
        resolve(value)
      }, (error: unknown) => {
        this.#unlink(waiting)
        reject(error)
      })
    })
  }

  #append(operation: string, reject: (error: Error) => void): Waiting {
    const waiting: Waiting = { deadline: Date.now() + this.#timeoutMs, operation, reject, previous: this.#tail, next: undefined, linked: true }
    if (this.#tail === undefined) this.#head = waiting
    else this.#tail.next = waiting
    this.#tail = waiting
    if (this.#timer === undefined) this.#arm(this.#timeoutMs)
    return waiting
  }

  #unlink(waiting: Waiting): void {
    if (!waiting.linked) return
    waiting.linked = false
    if (waiting.previous === undefined) this.#head = waiting.next
    else waiting.previous.next = waiting.next
    if (waiting.next === undefined) this.#tail = waiting.previous
    else waiting.next.previous = waiting.previous
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => this.#expireDue(), delayMs)
    this.#timer.unref()
  }

  #expireDue(): void {
    this.#timer = undefined
    const now = Date.now()
    let next: Waiting | undefined
    while ((next = this.#head) !== undefined && next.deadline <= now) {
      this.#unlink(next)
      next.reject(new StoreTimeoutError(next.operation, this.#timeoutMs))
    }
    if (next !== undefined) this.#arm(next.deadline - now)
  }
}
