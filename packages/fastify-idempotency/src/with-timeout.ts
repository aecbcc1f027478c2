export class StoreTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`idempotency store ${operation} timed out after ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
  }
}

/** Rejects with `StoreTimeoutError` if `promise` has not settled within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  // One promise and one timer per call (not Promise.race + finally): this runs on every request.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs)
    timer.unref()
    promise.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}
