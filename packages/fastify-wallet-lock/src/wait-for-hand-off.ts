/**
 * Resolves with the fence when `handOff` settles, with undefined after `ms` (time to
 * re-check), or rejects with the abort reason when `signal` aborts first.
 */
export async function waitForHandOff(handOff: Promise<number>, ms: number, signal: AbortSignal | undefined): Promise<number | undefined> {
  signal?.throwIfAborted() // aborted while the last re-check was on its way
  let timer: NodeJS.Timeout | undefined
  let stopWaiting: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    const onAbort = (): void => reject(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    stopWaiting = () => signal?.removeEventListener('abort', onAbort)
  })
  aborted.catch(() => {}) // raced below; a rejection after the race is nobody's concern
  try {
    return await Promise.race([handOff, aborted, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms) })])
  } finally {
    clearTimeout(timer)
    stopWaiting?.()
  }
}
