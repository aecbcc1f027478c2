import type { FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import type { Candidate } from './types.js'

/**
 * The floor: the least a Redis idempotency layer can do in 2 / 1 round trips through ioredis, by
 * hand and with no guarantee beyond that. `SET key 'p' NX PX GET` claims (or returns what is
 * stored), a stored response is sent back as it is, and onSend overwrites the claim with the
 * response. No scope, fingerprint, owner check, timeout or status: what it costs is what the
 * HTTP server, ioredis and Redis cost for those round trips, so no layer that keeps them can beat it.
 */
export const floor: Candidate = async ({ app, prefix, redisUrl, handler }) => {
  const redis = new Redis(redisUrl)
  const claimed = new WeakMap<FastifyRequest, string>()
  app.addHook('preHandler', async (request, reply) => {
    const key = `${prefix}${String(request.headers['idempotency-key'])}`
    const stored = await redis.set(key, 'p', 'PX', 60_000, 'NX', 'GET')
    if (stored === null) claimed.set(request, key)
    else return reply.code(201).type('application/json').send(stored)
  })
  app.addHook('onSend', async (request, _reply, payload) => {
    const key = claimed.get(request)
    if (key !== undefined) await redis.set(key, String(payload), 'PX', 60_000)
    return payload
  })
  app.post('/transfers', handler)
  return async () => {
    redis.disconnect()
  }
}
