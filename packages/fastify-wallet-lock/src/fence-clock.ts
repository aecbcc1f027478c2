/**
 * Most fences one grant reserves: the grantee gets the first, and its process may hand the next
 * ones to its own queued callers without asking the store again; the store's next grant starts
 * above them. A grant reserves them only when the clock (µs) is past every fence handed out
 * before, so fences are never more than this far ahead of the clock.
 */
export const FENCES_PER_GRANT = 64

/**
 * Fencing tokens are `max(previous + 1, now in microseconds)`: strictly increasing while the
 * counter survives, and still increasing after the counter is lost (a Redis restart, an
 * evicted key, a new process) as long as the clock does not step back.
 */
export function nextFence(previous: number, nowMs: number = Date.now()): number {
  return Math.max(previous + 1, Math.floor(nowMs * 1000))
}

/**
 * The fence of a grant after `last` (the last fence handed out or reserved) and the last one it
 * reserves: a block of FENCES_PER_GRANT when the clock is past `last`, else just `last + 1`.
 */
export function grantFences(last: number, nowMs: number = Date.now()): { fence: number, lastFence: number } {
  const fence = nextFence(last, nowMs)
  return { fence, lastFence: fence === last + 1 ? fence : fence + FENCES_PER_GRANT - 1 }
}
