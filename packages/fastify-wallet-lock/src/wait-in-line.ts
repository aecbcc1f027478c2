/**
 * Puts an entry at the back of `line` and waits until it is woken (its value), `waitMs`
 * passes (`onTimeout()`), or `signal` aborts (rejects with the reason). The entry leaves the
 * line whichever comes first.
 */
export function waitInLine<Entry, T>(
  line: Entry[],
  makeEntry: (wake: (value: T) => void) => Entry,
  waitMs: number,
  signal: AbortSignal | undefined,
  onTimeout: () => T
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      const at = line.indexOf(entry)
      if (at >= 0) line.splice(at, 1)
    }
    const entry = makeEntry((value) => {
      settle()
      resolve(value)
    })
    const timer = setTimeout(() => {
      settle()
      resolve(onTimeout())
    }, waitMs)
    const onAbort = (): void => {
      settle()
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    line.push(entry)
  })
}
