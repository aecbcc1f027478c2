import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency'
import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache'
import { createClient } from '@redis/client'
import type { Candidate } from './types.js'

/**
 * AWS Powertools idempotency with its cache (Redis) persistence layer on @redis/client. Outside
 * Lambda it wraps any async function; the route calls the wrapped function with key + body.
 */
export const powertools: Candidate = async ({ app, redisUrl, prefix }) => {
  const client = await createClient({ url: redisUrl }).connect()
  const persistenceStore = new CachePersistenceLayer({ client })
  // payloadValidationJmesPath is left out: in 2.35.0 the cache layer drops the payload hash when it
  // marks a record COMPLETED, so every replay then fails with IdempotencyValidationError.
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'key' })
  // Outside Lambda there is no context: a stand-in gives the in-progress record a 30 s expiry
  // (like our lease) and avoids a console warning on every call.
  config.registerLambdaContext({ getRemainingTimeInMillis: () => 30_000 } as Parameters<
    IdempotencyConfig['registerLambdaContext']
  >[0])
  const transfer = makeIdempotent(
    async (event: { key: string; body: unknown }) => ({ id: event.key, body: event.body }),
    { persistenceStore, keyPrefix: prefix, config }
  )
  app.post('/transfers', async (request, reply) => {
    const result = await transfer({ key: String(request.headers['idempotency-key']), body: request.body })
    return reply.code(201).header('location', `/transfers/${result.id}`).send(result)
  })
  return async () => {
    await client.close()
  }
}
