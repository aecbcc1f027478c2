/** A call that did not settle in time. `operation` names it, as given to `Timeouts.run`. */
export class TimeoutError extends Error {
  readonly operation: string
  readonly timeoutMs: number

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} timed out after ${timeoutMs} ms`)
    this.name = 'TimeoutError'
    this.operation = operation
    this.timeoutMs = timeoutMs
  }
}

/** A call still waiting for its answer, linked to its neighbours in deadline order. */
interface Waiting {
  deadline: number
  operation: string
  timeoutMs: number
  reject: (error: Error) => void
  previous: Waiting | undefined
  next: Waiting | undefined
  linked: boolean
}

/**
 * Deadlines for many short calls (store round trips, loaders) on ONE unref'd timer instead of a
 * timer set and cleared per call, which costs about as much as the rest of a cached request.
 * Waiting calls form a list in deadline order; calls with the default timeout arrive in order,
 * so they join at the tail at once, and the timer is armed only for the head. A call that
 * settles unlinks itself at once, so nothing keeps finished calls (and their results) alive
 * until the timer fires: under load that retention moves every request's promises to the old
 * generation and makes garbage collection a large share of the CPU.
 */
export class Timeouts {
  /** The timeout of a call that names none, in ms. */
  readonly timeoutMs: number
  #head: Waiting | undefined
  #tail: Waiting | undefined
  #timer: NodeJS.Timeout | undefined
  #timerAt = Infinity

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
  }

  /** Settles like `promise`, or rejects with a `TimeoutError` once `timeoutMs` have passed. */
  run<T>(promise: Promise<T>, operation: string, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting = this.#insert({
        deadline: Date.now() + timeoutMs,
        operation,
        timeoutMs,
        reject,
        previous: undefined,
        next: undefined,
        linked: true
      })
      promise.then(
        (value) => {
          this.#unlink(waiting)
          resolve(value)
        },
        (error: unknown) => {
          this.#unlink(waiting)
          reject(error)
        }
      )
    })
  }

  #insert(waiting: Waiting): Waiting {
    // From the tail back past later deadlines: a call with the usual timeout stops at once
    let before = this.#tail
    while (before !== undefined && before.deadline > waiting.deadline) before = before.previous
    waiting.previous = before
    waiting.next = before === undefined ? this.#head : before.next
    if (waiting.next === undefined) this.#tail = waiting
    else waiting.next.previous = waiting
    if (before === undefined) this.#head = waiting
    else before.next = waiting
    if (waiting.deadline < this.#timerAt) this.#arm(waiting.deadline)
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

  #arm(at: number): void {
    clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => this.#expireDue(), Math.max(0, at - Date.now()))
    this.#timer.unref()
  }

  #expireDue(): void {
    this.#timer = undefined
    this.#timerAt = Infinity
    const now = Date.now()
    let next: Waiting | undefined
    while ((next = this.#head) !== undefined && next.deadline <= now) {
      this.#unlink(next)
      next.reject(new TimeoutError(next.operation, next.timeoutMs))
    }
    // Settled calls left the list without touching the timer: it may fire before anything is due
    if (next !== undefined) this.#arm(next.deadline)
  }
}
