import { freshDatabase } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import { logDestination } from '../src/log-output.js'
import { Api } from './helpers/api.js'
import { ADMIN_TOKEN, testConfig } from './helpers/app.js'

type LogLine = Record<string, unknown> & { msg?: string; requestId?: string }

/** An instance on a fresh database whose log lines (every level) are captured as parsed JSON. */
async function appWithCapturedLog(t: Test): Promise<{ app: FastifyInstance; lines: LogLine[] }> {
  const lines: LogLine[] = []
  const app = await buildApp(testConfig({ DATABASE_URL: await freshDatabase(t) }), {
    logger: {
      level: 'trace',
      stream: {
        write: (line) => {
          lines.push(JSON.parse(line))
        }
      }
    }
  })
  t.teardown(() => app.close())
  return { app, lines }
}

t.test('a terminal gets human-readable lines, anything else pino JSON, in write order', async (t) => {
  const written: string[] = []
  const line =
    JSON.stringify({
      level: 30,
      time: Date.now(),
      pid: 1,
      hostname: 'h',
      requestId: 'r-1',
      msg: 'money movement'
    }) + '\n'

  logDestination({ isTTY: true, write: (text) => written.push(text) }).write(line)
  const pretty = written.join('').replace(/\x1b\[[0-9;]*m/g, '') // eslint-disable-line no-control-regex -- colours off for the match
  t.match(pretty, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: money movement {"requestId":"r-1"}\n$/)
  t.notMatch(pretty, /"level"|hostname|pid/, 'no JSON, no pid and host noise')

  written.length = 0
  logDestination({ write: (text) => written.push(text) }).write(line)
  logDestination({ isTTY: false, write: (text) => written.push(text) }).write(line)
  t.same(written, [line, line], 'a pipe or a file gets the JSON line as is')
})

t.test(
  'request ids: on every line of a request, in X-Request-Id and in every problem document',
  async (t) => {
    const { app, lines } = await appWithCapturedLog(t)
    const api = new Api(app)
    const linesOf = (id: string) => lines.filter((line) => line.requestId === id)

    const sane = await api.request({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'edge-7f3a:1.2_b' }
    })
    t.equal(sane.headers['x-request-id'], 'edge-7f3a:1.2_b', 'a sane incoming id is kept and echoed')
    t.same(
      linesOf('edge-7f3a:1.2_b').map((line) => line.msg),
      ['incoming request', 'request completed']
    )

    for (const [insane, what] of [
      ['x'.repeat(129), 'too long'],
      ['a b', 'a space'],
      ['id\n{"level":60}', 'a forged line'],
      ['', 'empty']
    ]) {
      const response = await api.request({
        method: 'GET',
        url: '/health/live',
        headers: { 'x-request-id': insane }
      })
      t.match(
        response.headers['x-request-id'],
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        `${what}: replaced by a UUID`
      )
      t.equal(linesOf(response.headers['x-request-id'] as string).length, 2)
    }
    const generated = await api.request({ method: 'GET', url: '/health/live' })
    t.not(
      generated.headers['x-request-id'],
      (await api.request({ method: 'GET', url: '/health/live' })).headers['x-request-id'],
      'no incoming id: a new one each request'
    )

    const problems = {
      'unauthenticated (onRequest)': await api.request({ method: 'GET', url: '/v1/wallets' }),
      'unknown route': await api.request({ method: 'GET', url: '/v1/nothing' }),
      'schema violation': await api.request({
        method: 'POST',
        url: '/v1/users',
        token: ADMIN_TOKEN,
        payload: { name: 'x', extra: 1 }
      }),
      'malformed URL (the router)': await api.request({ method: 'GET', url: '/v1/wallets/%E0%A4%A' })
    }
    for (const [name, response] of Object.entries(problems)) {
      const id = response.headers['x-request-id'] as string
      t.match(id, /^[0-9a-f-]{36}$/, `${name}: X-Request-Id`)
      t.match(
        response.json(),
        { status: response.statusCode, code: String, requestId: id },
        `${name}: requestId in the problem document`
      )
    }
    const rejected = linesOf(problems['schema violation'].headers['x-request-id'] as string)
    t.same(
      rejected.map((line) => line.msg),
      ['incoming request', 'request rejected', 'request completed'],
      'the rejection is logged with the id'
    )
  }
)

t.test(
  'no secret in any line: credentials in headers, logged objects and error logs are redacted',
  async (t) => {
    const { app, lines } = await appWithCapturedLog(t)
    const api = new Api(app)
    const alice = await api.createUser('Alice')
    const wallet = await api.createWallet(alice)
    t.equal((await api.deposit(wallet.id, 500)).statusCode, 201)
    t.equal(
      (
        await api.request({
          method: 'GET',
          url: '/v1/wallets',
          token: 'mk_not-a-real-key-but-secret-all-the-same'
        })
      ).statusCode,
      401
    )

    // What a careless log line or a failing client library could carry: the service's own
    // lines never do, the redaction makes sure a future one does not either.
    const secretBearer = `Bearer ${alice.apiKey}`
    app.log.warn(
      {
        upstream: { headers: { authorization: secretBearer, cookie: 'session=s3cret' } },
        headers: { authorization: secretBearer },
        apiKey: alice.apiKey,
        user: { apiKey: alice.apiKey, token: ADMIN_TOKEN },
        adminToken: ADMIN_TOKEN
      },
      'careless'
    )
    app.log.error(
      { err: Object.assign(new Error('upstream refused'), { headers: { authorization: secretBearer } }) },
      'request failed'
    )

    const text = JSON.stringify(lines)
    for (const [secret, what] of [
      [alice.apiKey, 'API key'],
      [ADMIN_TOKEN, 'admin token'],
      ['mk_not-a-real-key', 'a wrong key'],
      ['s3cret', 'a cookie']
    ])
      t.notMatch(text, secret, `no ${what} in any line`)
    t.match(
      lines.find((line) => line.msg === 'careless'),
      {
        upstream: { headers: { authorization: '[redacted]', cookie: '[redacted]' } },
        headers: { authorization: '[redacted]' },
        apiKey: '[redacted]',
        user: { apiKey: '[redacted]', token: '[redacted]' },
        adminToken: '[redacted]'
      }
    )
    t.match(
      lines.find((line) => line.msg === 'request failed'),
      { err: { message: 'upstream refused', headers: { authorization: '[redacted]' } } }
    )

    const movement = lines.find((line) => line.msg === 'money movement')
    t.match(
      movement,
      {
        movement: 'deposit',
        outcome: 'created',
        principal: 'admin',
        toWalletId: wallet.id,
        amount: 500,
        requestId: String
      },
      'the deposit: one structured line, with its request id'
    )
  }
)
