import { Redis } from 'ioredis'

/**
 * The shared Redis connection. Commands fail at once while it is disconnected (no offline
 * queue, no retries of a request) so money routes can answer 503 quickly instead of
 * queueing behind an outage; the connection itself reconnects forever in the background,
 * so the service recovers by itself when Redis returns.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000)
  })
}
