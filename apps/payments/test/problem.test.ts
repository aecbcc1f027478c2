import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { Teardown } from '@moolah/test-utils'
import t from 'tap'
import createError from '@fastify/error'
import { buildApp } from '../src/app.js'
import { DependencyUnavailable } from '../src/errors.js'
import { tempDataDir, testConfig } from './helpers/app.js'

const Teapot = createError('TEAPOT_BUSY', 'The teapot is busy', 418)

async function appWithProbeRoutes(t: Teardown): Promise<FastifyInstance> {
  const app = await buildApp(testConfig({ DATA_DIR: await tempDataDir(t) }), { logger: false })
  t.teardown(() => app.close())
  // Probe routes opt in to public access: routes are deny-by-default.
  const open = { config: { access: 'public' as const } }
  app.post(
    '/probe',
    {
      ...open,
      schema: { body: Type.Object({ amount: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) }
    },
    async (request) => request.body
  )
  app.get('/boom', open, async () => {
    throw new Error('SELECT secret FROM users -- internals')
  })
  app.get('/teapot', open, async () => {
    throw new Teapot()
  })
  app.get('/odd', open, async () => {
    throw Object.assign(new Error('odd'), { statusCode: 498 })
  })
  app.get('/plain', open, async () => {
    throw Object.assign(new Error('gone'), { statusCode: 410 })
  })
  app.get('/unavailable', open, async () => {
    throw new DependencyUnavailable('Redis')
  })
  app.get('/db-down', open, async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
  })
  app.get('/system-error', open, async () => {
    throw Object.assign(new Error('open /etc/secret failed'), { code: 'EACCES' })
  })
  return app
}

t.test('every error is an RFC 9457 problem document with a code', async (t) => {
  const app = await appWithProbeRoutes(t)
  const cases = [
    { name: 'unknown route', request: { method: 'GET', url: '/v1/nothing' }, status: 404, code: 'NOT_FOUND' },
    {
      name: 'schema violation',
      request: { method: 'POST', url: '/probe', payload: { amount: 1.5 } },
      status: 400,
      code: 'VALIDATION_ERROR'
    },
    {
      name: 'unknown property',
      request: { method: 'POST', url: '/probe', payload: { amount: 1, extra: true } },
      status: 400,
      code: 'VALIDATION_ERROR'
    },
    {
      name: 'malformed JSON',
      request: {
        method: 'POST',
        url: '/probe',
        payload: '{"amount":',
        headers: { 'content-type': 'application/json' }
      },
      status: 400,
      code: 'VALIDATION_ERROR'
    },
    {
      name: 'wrong content type',
      request: {
        method: 'POST',
        url: '/probe',
        payload: 'amount=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' }
      },
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE'
    },
    {
      name: 'body over 64 KiB',
      request: { method: 'POST', url: '/probe', payload: { amount: 1, pad: 'x'.repeat(65 * 1024) } },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE'
    },
    {
      name: 'an error with its own code',
      request: { method: 'GET', url: '/teapot' },
      status: 418,
      code: 'TEAPOT_BUSY'
    },
    {
      name: 'an error with only a status',
      request: { method: 'GET', url: '/plain' },
      status: 410,
      code: 'GONE'
    },
    { name: 'a status without a name', request: { method: 'GET', url: '/odd' }, status: 498, code: 'ERROR' },
    {
      name: 'a dependency outage',
      request: { method: 'GET', url: '/unavailable' },
      status: 503,
      code: 'DEPENDENCY_UNAVAILABLE'
    },
    {
      name: 'Postgres unreachable',
      request: { method: 'GET', url: '/db-down' },
      status: 503,
      code: 'DEPENDENCY_UNAVAILABLE'
    },
    {
      name: 'a system error',
      request: { method: 'GET', url: '/system-error' },
      status: 500,
      code: 'INTERNAL_ERROR'
    },
    { name: 'a bug', request: { method: 'GET', url: '/boom' }, status: 500, code: 'INTERNAL_ERROR' }
  ] as const
  for (const { name, request, status, code } of cases) {
    const response = await app.inject(request)
    t.equal(response.statusCode, status, `${name}: status`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: media type`)
    const body = response.json()
    t.match(body, { type: 'about:blank', title: String, status, detail: String, code }, `${name}: members`)
    t.notMatch(response.body, /SELECT|secret|ECONNREFUSED|at .*\.ts:\d+/, `${name}: no internals`)
    if (status === 503) t.ok(Number(response.headers['retry-after']) >= 1, `${name}: Retry-After`)
  }
})

t.test('a route that does not say who may call it is for users only', async (t) => {
  const app = await buildApp(testConfig({ DATA_DIR: await tempDataDir(t) }), { logger: false })
  t.teardown(() => app.close())
  app.get('/unmarked', async () => ({ secret: true }))
  const response = await app.inject({ method: 'GET', url: '/unmarked' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'UNAUTHORIZED')
})

t.test('validation problems point at the offending field', async (t) => {
  const app = await appWithProbeRoutes(t)
  const response = await app.inject({ method: 'POST', url: '/probe', payload: { amount: 0 } })
  t.match(response.json().errors, [{ path: 'body/amount', message: /must be >= 1/ }])
})
