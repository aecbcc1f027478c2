import { Idempotency } from '@node-idempotency/core'
import { RedisStorageAdapter } from '@node-idempotency/storage-adapter-redis'
import type { FastifyRequest } from 'fastify'
import type { Candidate } from './types.js'

/** @node-idempotency/core with its Redis adapter, wired the way its Fastify adapter does: preHandler + onSend. */
export const nodeIdempotency: Candidate = async ({ app, prefix, redisUrl, handler }) => {
  const storage = new RedisStorageAdapter({ url: redisUrl })
  await storage.connect()
  const idempotency = new Idempotency(storage, { cacheKeyPrefix: prefix })
  const claimed = new WeakSet<FastifyRequest>()
  const params = (request: FastifyRequest) => ({
    method: request.method,
    headers: request.headers,
    body: request.body as Record<string, unknown>,
    path: request.url
  })
  app.addHook('preHandler', async (request, reply) => {
    try {
      const cached = await idempotency.onRequest(params(request))
      if (cached !== undefined) return reply.code(Number(cached.additional?.status ?? 200)).send(cached.body)
      claimed.add(request)
    } catch {
      return reply.code(409).send({ error: 'idempotency' })
    }
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (claimed.has(request))
      await idempotency.onResponse(params(request), {
        body: payload,
        additional: { status: reply.statusCode }
      })
    return payload
  })
  app.post('/transfers', handler)
  return async () => {
    await storage.disconnect()
  }
}
