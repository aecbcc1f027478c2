import type { Server } from 'node:http'
import type { Teardown } from '@moolah/test-utils'
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify'
import { idempotency, type IdempotencyEvent, type IdempotencyOptions } from '../../src/index.js'

/** Gives each test a space of its own; each call of the function it returns, the options of one more instance sharing that space. */
export type StoreFactory = (t: Teardown) => Promise<() => IdempotencyOptions>

export interface TestApp {
  app: FastifyInstance
  events: IdempotencyEvent[]
}

/**
 * A Fastify app with the plugin, scoped to the `x-user` request header (standing in
 * for authentication), recording every event. Routes are added by `routes`.
 */
export async function buildApp(
  t: Teardown,
  options: IdempotencyOptions,
  routes: (app: FastifyInstance) => void,
  fastifyOptions: FastifyHttpOptions<Server> = {}
): Promise<TestApp> {
  const events: IdempotencyEvent[] = []
  const app = Fastify({ logger: false, ...fastifyOptions })
  await app.register(idempotency, {
    scope: (request) => String(request.headers['x-user'] ?? 'anonymous'),
    onEvent: (event) => events.push(event),
    ...options
  })
  routes(app)
  await app.ready()
  t.teardown(() => app.close())
  return { app, events }
}

export function post(
  app: FastifyInstance,
  url: string,
  key: string | undefined,
  payload: unknown = { amount: 100 },
  headers: Record<string, string> = {}
) {
  return app.inject({
    method: 'POST',
    url,
    payload: payload as Record<string, unknown>,
    headers: { 'x-user': 'alice', ...(key === undefined ? {} : { 'idempotency-key': key }), ...headers }
  })
}

/** A promise with its resolve function, for holding a handler until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/** Keeps the event loop busy, like a long GC pause: no timer (lease renewal) can fire. */
export function blockEventLoop(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) {
    /* busy */
  }
}

export function eventTypes(events: IdempotencyEvent[]): string[] {
  return events.map((event) => event.type)
}
