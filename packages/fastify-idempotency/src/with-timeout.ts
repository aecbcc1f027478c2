export class StoreTimeoutError extends Error {
  constructor(operation: string, timeoutMs: number) {
    super(`idempotency store ${operation} timed out after ${timeoutMs} ms`)
    this.name = 'StoreTimeoutError'
  }
}

/** Rejects with `StoreTimeoutError` if `promise` has not settled within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(operation, timeoutMs)), timeoutMs)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
