// Commands a Redis server has executed, from INFO commandstats.
import type { Redis } from 'ioredis'

/**
 * Calls per command since the server started, except INFO: the benchmark's own INFO calls,
 * and the ready checks of connecting clients, are not the work being measured. Take
 * differences around a measurement (`commandsBetween`).
 */
export async function redisCommandCalls(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats')
  const calls: Record<string, number> = {}
  for (const line of info.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match !== null && match[1] !== 'info') calls[match[1] as string] = Number(match[2])
  }
  return calls
}

/** Calls per command between two readings, commands not called left out. */
export function commandsBetween(
  before: Record<string, number>,
  after: Record<string, number>
): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [command, calls] of Object.entries(after)) {
    const n = calls - (before[command] ?? 0)
    if (n > 0) delta[command] = n
  }
  return delta
}

export function totalCalls(calls: Record<string, number>): number {
  return Object.values(calls).reduce((sum, n) => sum + n, 0)
}
