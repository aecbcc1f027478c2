import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { Problem } from './problem.js'
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js'

/**
 * On SIGINT/SIGTERM: stop accepting connections, let in-flight requests finish, close the
 * pools and exit 0 as soon as that is done; after `graceMs`, or at a second signal, exit 1.
 *
 * Two things Fastify's close does not do are done here, in front of its request handler:
 * - a request that still arrives on an open keep-alive connection gets a problem document
 *   (503 SERVICE_UNAVAILABLE, Connection: close, Retry-After), not Fastify's own JSON;
 * - a connection whose request was in flight when the drain began is closed as soon as it is
 *   answered. server.close() closes the idle connections once, at the start; one that becomes
 *   idle later would otherwise keep the process alive until its keep-alive timeout (72 s).
 */
export function shutDownOnSignals(app: FastifyInstance, graceMs: number): void {
  let closing = false
  const server = app.server
  server.removeListener('request', app.routing)
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (closing) return refuse(app, request, response)
    response.once('close', () => {
      if (closing) server.closeIdleConnections()
    })
    app.routing(request, response)
  })

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) {
        app.log.warn(`${signal} again: exiting without waiting`)
        process.exit(1)
      }
      closing = true
      app.log.info(`${signal}: draining in-flight requests (for at most ${graceMs} ms), then closing`)
      const fail = (message: string, err?: unknown) => {
        app.log.error({ err }, message)
        process.exit(1)
      }
      setTimeout(
        () => fail(`shutdown did not finish within SHUTDOWN_GRACE_MS (${graceMs} ms): exiting`),
        graceMs
      )
      app.close().then(
        () => process.exit(0),
        /* c8 ignore next -- no onClose hook rejects today (pools end under a timeout, Redis's QUIT resolves even while reconnecting) */
        (err: unknown) => fail('error while closing', err)
      )
    })
  }
}

function refuse(app: FastifyInstance, request: IncomingMessage, response: ServerResponse): void {
  // Fastify never sees this request: its id is given here, as Fastify would have.
  const requestId = requestIdOf(request)
  app.log.info({ requestId, method: request.method, url: request.url }, 'shutting down: request refused')
  const problem: Problem = {
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: 'This instance is shutting down; retry the request.',
    code: 'SERVICE_UNAVAILABLE',
    instance: String(request.url),
    requestId
  }
  const body = JSON.stringify(problem)
  response.writeHead(503, {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // The client should take its retry to another instance, on a new connection.
    connection: 'close',
    'retry-after': '1',
    [REQUEST_ID_HEADER]: requestId
  })
  response.end(body)
}
