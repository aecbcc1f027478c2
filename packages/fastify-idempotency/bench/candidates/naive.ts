import type { FastifyRequest } from 'fastify'
import { Redis } from 'ioredis'
import type { Candidate } from './types.js'

/**
 * The widely copied snippet: GET, then SET 'processing' NX EX 86400, overwrite with the JSON
 * on success, DEL on failure, replay everything as 200. Unscoped, no fingerprint, no owner.
 */
export const naive: Candidate = async ({ app, prefix, redisUrl, handler }) => {
  const redis = new Redis(redisUrl)
  const claimed = new WeakMap<FastifyRequest, string>()
  app.addHook('preHandler', async (request, reply) => {
    const key = `${prefix}${String(request.headers['idempotency-key'])}`
    const cached = await redis.get(key)
    if (cached === 'processing') return reply.code(409).send({ error: 'in progress' })
    if (cached !== null) return reply.send(JSON.parse(cached))
    if ((await redis.set(key, 'processing', 'EX', 86400, 'NX')) === null)
      return reply.code(409).send({ error: 'in progress' })
    claimed.set(request, key)
  })
  app.addHook('onSend', async (request, reply, payload) => {
    const key = claimed.get(request)
    if (key === undefined) return payload
    if (reply.statusCode < 400) await redis.set(key, String(payload), 'EX', 86400)
    else await redis.del(key)
    return payload
  })
  app.post('/transfers', handler)
  return async () => {
    redis.disconnect()
  }
}
