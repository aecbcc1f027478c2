import { freshDatabase } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { parseTrustProxy } from '../src/trust-proxy.js'
import { startApp } from './helpers/app.js'

t.test("TRUST_PROXY: true, false, or the proxies' addresses and ranges", async (t) => {
  t.equal(parseTrustProxy('true'), true)
  t.equal(parseTrustProxy(' FALSE '), false)
  t.same(parseTrustProxy('10.213.0.0/24'), ['10.213.0.0/24'])
  t.same(parseTrustProxy('127.0.0.1, ::1,fd00::/8 ,loopback,linklocal,uniquelocal,'), [
    '127.0.0.1',
    '::1',
    'fd00::/8',
    'loopback',
    'linklocal',
    'uniquelocal'
  ])
  t.same(parseTrustProxy('0.0.0.0/0,::/128'), ['0.0.0.0/0', '::/128'])
  for (const bad of [
    '1',
    'yes',
    ',',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '10.0.0.0/abc',
    '10.0.0.256',
    'nginx'
  ]) {
    t.throws(
      () => parseTrustProxy(bad),
      /^must be true, false, or a comma-separated list of the proxies' IP addresses, CIDR ranges or loopback\/linklocal\/uniquelocal \(not a hop count\), got/,
      bad
    )
  }
})

// Behind a proxy every client arrives from the proxy's address: only a trusted proxy's
// X-Forwarded-For tells clients apart, which the per-IP limit of anonymous requests shows.
t.test('X-Forwarded-For decides request.ip only when the peer is trusted', async (t) => {
  const databaseUrl = await freshDatabase(t)
  const proxy = '10.213.0.2'
  const catalog = (app: FastifyInstance, client: string) =>
    app.inject({
      method: 'GET',
      url: '/v1/catalog/flash',
      remoteAddress: proxy,
      headers: { 'x-forwarded-for': client }
    })
  const remaining = async (app: FastifyInstance, client: string) => {
    const response = await catalog(app, client)
    return response.statusCode === 429 ? 'limited' : response.headers['x-ratelimit-remaining']
  }
  const start = (trustProxy?: string) =>
    startApp(t, {
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_MAX: '2',
      ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy })
    })

  for (const [what, trustProxy] of [
    ['by default', undefined],
    ['false', 'false'],
    ['another range', '10.0.0.0/24,loopback']
  ] as const) {
    const app = await start(trustProxy)
    t.same(
      [
        await remaining(app, '198.51.100.1'),
        await remaining(app, '198.51.100.2'),
        await remaining(app, '198.51.100.3')
      ],
      ['1', '0', 'limited'],
      `not trusted (${what}): every client shares the proxy's bucket`
    )
  }
  for (const [what, trustProxy] of [
    ["the proxy's range", '10.213.0.0/24'],
    ['its address among others', '127.0.0.1,10.213.0.2'],
    ['true', 'true']
  ] as const) {
    const app = await start(trustProxy)
    t.same(
      [
        await remaining(app, '198.51.100.1'),
        await remaining(app, '198.51.100.1'),
        await remaining(app, '198.51.100.1'),
        await remaining(app, '198.51.100.2')
      ],
      ['1', '0', 'limited', '1'],
      `trusted (${what}): one bucket per client`
    )
  }

  // A client's own X-Forwarded-For entry comes before the one the proxy appends: a trusted
  // proxy's range does not make the client's claim trusted.
  const app = await start('10.213.0.0/24')
  const spoofed = (claim: string) =>
    app.inject({
      method: 'GET',
      url: '/v1/catalog/flash',
      remoteAddress: proxy,
      headers: { 'x-forwarded-for': `${claim}, 198.51.100.9` }
    })
  t.same(
    [
      (await spoofed('203.0.113.1')).headers['x-ratelimit-remaining'],
      (await spoofed('203.0.113.2')).headers['x-ratelimit-remaining'],
      (await spoofed('203.0.113.3')).statusCode
    ],
    ['1', '0', 429],
    'a client cannot pick its bucket by sending X-Forwarded-For itself'
  )
})
