/** Rejects with `timeoutError()` (default: `Error('no answer within … ms')`) if `work` has not settled within `timeoutMs`. */
export async function withTimeout<T>(work: PromiseLike<T>, timeoutMs: number, timeoutError: () => Error = () => new Error(`no answer within ${timeoutMs} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}
