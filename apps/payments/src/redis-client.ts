import { Redis } from 'ioredis'

/**
 * The shared Redis connection. It reconnects forever in the background, so the service
 * recovers by itself when Redis returns; meanwhile a command is never retried, and the
 * offline queue is flushed with an error at every failed reconnection attempt (at most
 * every second), so callers — each with its own timeout — fail fast instead of queueing
 * behind an outage. The queue itself stays on: the plugins' duplicated connections
 * (pub/sub, blocking waits) may be used before their first connect completes.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // Bounds what has no timeout of its own (the rate limiter): a hung Redis costs a
    // request at most this long per call.
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000)
  })
}
