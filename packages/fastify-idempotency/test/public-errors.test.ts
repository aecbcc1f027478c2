import { randomBytes } from 'node:crypto'
import type { FastifyError } from 'fastify'
import t, { type Test } from 'tap'
import { MemoryIdempotencyStore, type IdempotencyStore } from '../src/index.js'
import { buildApp, post } from './support/app.js'

const SECRET = 'SELECT secret FROM x'

/** A store whose calls all fail with a message from another layer (think of a database driver's error). */
const leakyStore: IdempotencyStore = {
  claim: async () => {
    throw new Error(`Failed query: ${SECRET} params: 42`)
  },
  renew: async () => false,
  commit: async () => false,
  release: async () => false
}

/** An app that keeps what it logged and the errors its routes threw. */
async function observedApp(t: Test, options: Parameters<typeof buildApp>[1]) {
  const logged: Array<Record<string, unknown>> = []
  const thrown: FastifyError[] = []
  const { app } = await buildApp(
    t,
    options,
    (app) => {
      app.addHook('onError', async (_request, _reply, error) => {
        thrown.push(error)
      })
      app.post('/transfers', async (_request, reply) => reply.code(201).send({ ok: true }))
    },
    {
      logger: {
        level: 'warn',
        stream: {
          write: (line: string) => {
            logged.push(JSON.parse(line) as Record<string, unknown>)
          }
        }
      }
    }
  )
  return { app, logged, thrown }
}

t.test(
  'a failing store is a 503 with a fixed message and Retry-After; its own error is the cause and is logged',
  async (t) => {
    const { app, logged, thrown } = await observedApp(t, { store: leakyStore })
    const response = await post(app, '/transfers', 'k')
    t.equal(response.statusCode, 503)
    t.equal(response.headers['retry-after'], '1')
    t.same(response.json(), {
      statusCode: 503,
      code: 'DEPENDENCY_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'The idempotency store is unavailable; retry later'
    })
    t.notOk(
      response.body.includes('SELECT') || response.body.includes('Failed query'),
      'nothing of the store error reaches the client'
    )
    t.match(
      thrown,
      [{ code: 'DEPENDENCY_UNAVAILABLE', retryAfter: 1, cause: { message: new RegExp(SECRET) } }],
      'the store error is kept as the cause'
    )
    t.ok(
      logged.some(
        (line) =>
          line.msg === '@moolah/fastify-idempotency: store call failed' &&
          JSON.stringify(line.err).includes(SECRET)
      ),
      'and logged with the error object'
    )
  }
)

t.test(
  'a stored record that cannot be decoded is a 503 with a fixed message; the decode error is the cause and is logged',
  async (t) => {
    const store = new MemoryIdempotencyStore()
    const writer = await observedApp(t, { store, encryptionKey: randomBytes(32) })
    t.equal((await post(writer.app, '/transfers', 'k')).statusCode, 201)
    const { app, logged, thrown } = await observedApp(t, { store, encryptionKey: randomBytes(32) })
    const response = await post(app, '/transfers', 'k')
    t.equal(response.statusCode, 503)
    t.equal(response.headers['retry-after'], '1')
    t.equal(response.json().message, 'The idempotency store is unavailable; retry later')
    t.notOk(
      /authenticate|decipher|at .*\.(js|ts)/.test(response.body),
      'no crypto error text, path or stack reaches the client'
    )
    t.match(thrown, [{ code: 'DEPENDENCY_UNAVAILABLE', cause: { message: /unable to authenticate data/ } }])
    t.ok(
      logged.some(
        (line) => line.msg === '@moolah/fastify-idempotency: store call failed' && line.operation === 'decode'
      ),
      'logged with the error object'
    )
  }
)
