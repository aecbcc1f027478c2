import { Redis } from 'ioredis'

/**
 * Sends one command on a short-lived connection that never retries or queues,
 * so a dead or paused server shows up as an error instead of a hang.
 */
export async function redisCommand(
  port: number,
  timeoutMs: number,
  command: string,
  ...args: string[]
): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs
  })
  redis.on('error', () => {}) // the rejected promise below carries the error
  try {
    await redis.connect()
    return await redis.call(command, ...args)
  } finally {
    redis.disconnect()
  }
}
