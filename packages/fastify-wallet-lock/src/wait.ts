/**
 * Waits for a wake-up that `listen` registers: resolves with the value it is woken with, with
 * `onTimeout()` after `ms`, or rejects with the reason when `signal` aborts (also when it already
 * has). `listen` must not wake at once; it returns how to stop listening, which runs whichever
 * comes first.
 */
export function waitFor<T>(
  listen: (wake: (value: T) => void) => () => void,
  ms: number,
  signal: AbortSignal | undefined,
  onTimeout: () => T
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason)
    const settle = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      stopListening()
    }
    const onAbort = (): void => {
      settle()
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      settle()
      resolve(onTimeout())
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
    const stopListening = listen((value) => {
      settle()
      resolve(value)
    })
  })
}
