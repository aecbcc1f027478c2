import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `check` every `intervalMs` until it returns true, or fails after `timeoutMs` with `what`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 25
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      if (await check()) return
    } catch (err) {
      lastError = err
    }
    await sleep(intervalMs)
  }
  const cause = lastError instanceof Error ? `: ${lastError.message}` : ''
  throw new Error(`test-utils: timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
}
