import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'

export const REQUEST_ID_HEADER = 'x-request-id'

// A caller's id is kept only when it cannot forge log lines or bloat them: short, and made of
// the characters ids (UUIDs, trace ids, nginx's $request_id) are made of.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when it is sane (so a proxy's or client's id
 * follows the request into our logs), a fresh UUID otherwise.
 */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER]
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

/** Every answer names its request in `X-Request-Id`, so a client can quote it to the operator. */
export function echoRequestId(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
}
