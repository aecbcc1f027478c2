/**
 * Fencing tokens are `max(previous + 1, now in microseconds)`: strictly increasing while the
 * counter survives, and still increasing after the counter is lost (a Redis restart, an
 * evicted key, a new process) as long as the clock does not step back.
 */
export function nextFence(previous: number, nowMs: number = Date.now()): number {
  return Math.max(previous + 1, Math.floor(nowMs * 1000))
}
