import { Redis } from 'ioredis'
import { idempotency } from '../../src/index.js'
import type { Candidate } from './types.js'

/** This package, on a Redis store, scoped to the caller. */
export const plugin: Candidate = async ({ app, prefix, redisUrl, handler }) => {
  const redis = new Redis(redisUrl)
  await app.register(idempotency, { redis, prefix, scope: (request) => String(request.headers['x-user']) })
  app.post('/transfers', handler)
  return async () => {
    redis.disconnect()
  }
}
