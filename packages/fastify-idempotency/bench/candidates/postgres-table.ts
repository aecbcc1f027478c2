import type { FastifyRequest } from 'fastify'
import postgres from 'postgres'
import type { Candidate } from './types.js'

/**
 * What a service without Redis does: an idempotency_keys table. INSERT … ON CONFLICT DO NOTHING
 * claims; a conflict SELECTs the stored response; success UPDATEs the row with the response.
 */
export const postgresTable: Candidate = async ({ app, databaseUrl, handler, countStatement }) => {
  // debug is called once per statement sent: the round trips of this candidate.
  const sql = postgres(databaseUrl, { max: 16, onnotice: () => {}, debug: countStatement })
  await sql`CREATE TABLE IF NOT EXISTS idempotency_keys (scope text, key text, fingerprint text, status_code int, body text, created_at timestamptz DEFAULT now(), PRIMARY KEY (scope, key))`
  const claimedRequests = new WeakSet<FastifyRequest>()
  app.addHook('preHandler', async (request, reply) => {
    const scope = String(request.headers['x-user'])
    const key = String(request.headers['idempotency-key'])
    const claimed =
      await sql`INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES (${scope}, ${key}, ${JSON.stringify(request.body)}) ON CONFLICT DO NOTHING RETURNING 1`
    if (claimed.length === 1) return void claimedRequests.add(request)
    const [row] =
      await sql`SELECT status_code, body FROM idempotency_keys WHERE scope = ${scope} AND key = ${key}`
    if (row?.status_code == null) return reply.code(409).send({ error: 'in progress' })
    return reply
      .code(row.status_code as number)
      .type('application/json')
      .send(row.body)
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (claimedRequests.has(request))
      await sql`UPDATE idempotency_keys SET status_code = ${reply.statusCode}, body = ${String(payload)} WHERE scope = ${String(request.headers['x-user'])} AND key = ${String(request.headers['idempotency-key'])}`
    return payload
  })
  app.post('/transfers', handler)
  return async () => {
    await sql`DROP TABLE IF EXISTS idempotency_keys`
    await sql.end()
  }
}
