import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix } from '@moolah/test-utils'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { Api } from './helpers/api.js'
import { ADMIN_TOKEN, testConfig } from './helpers/app.js'

t.test('/metrics: what an operator watches, after real traffic', async (t) => {
  const { prefix, url } = redisPrefix(t)
  const lines: Array<Record<string, unknown>> = []
  const app = await buildApp(
    testConfig({ DATABASE_URL: await freshDatabase(t), REDIS_URL: url, REDIS_KEY_PREFIX: prefix }),
    {
      logger: {
        level: 'info',
        stream: {
          write: (line) => {
            lines.push(JSON.parse(line))
          }
        }
      }
    }
  )
  t.teardown(() => app.close())
  const api = new Api(app)
  const alice = await api.createUser('Alice')
  const from = await api.createWallet(alice)
  const to = await api.createWallet(alice)
  t.equal((await api.deposit(from.id, 1_000)).statusCode, 201)
  const key = randomUUID()
  t.equal(
    (await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }, key)).statusCode,
    201
  )
  t.equal(
    (await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }, key)).headers[
      'idempotent-replayed'
    ],
    'true'
  )
  t.equal(
    (await api.transfer(alice, { fromWalletId: from.id, toWalletId: to.id, amount: 1_000_000 })).statusCode,
    422
  )
  t.equal((await api.request({ method: 'GET', url: '/v1/catalog/flash' })).statusCode, 200)

  t.equal((await api.request({ method: 'GET', url: '/metrics' })).statusCode, 401, 'not public')
  t.equal(
    (await api.request({ method: 'GET', url: '/metrics', token: alice.apiKey })).statusCode,
    403,
    'not for users'
  )
  const scrape = await api.request({ method: 'GET', url: '/metrics', token: ADMIN_TOKEN })
  t.equal(scrape.statusCode, 200)
  t.match(scrape.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const text = scrape.body
  for (const [pattern, what] of [
    [/moolah_money_movements_total\{movement="transfer",outcome="created"\} 1\n/, 'one transfer created'],
    [/moolah_money_movements_total\{movement="transfer",outcome="replayed"\} 1\n/, 'one replayed'],
    [
      /moolah_money_movements_total\{movement="transfer",outcome="INSUFFICIENT_FUNDS"\} 1\n/,
      'one refused for funds'
    ],
    [/moolah_money_movements_total\{movement="deposit",outcome="created"\} 1\n/, 'one deposit'],
    [/moolah_idempotency_requests_total\{outcome="claimed"\} [1-9]/, 'idempotency claims'],
    [/moolah_idempotency_requests_total\{outcome="replayed"\} 1\n/, 'the replay'],
    [/moolah_wallet_lock_events_total\{outcome="acquired"\} 2\n/, 'the two transfers that reached the lock'],
    [/moolah_wallet_lock_wait_seconds_count 2\n/, 'their waits'],
    [
      /moolah_catalog_cache_answers_total\{catalog="flash",status="(hit|miss)_[a-z0-9]+"\} 1\n/,
      'the catalog answer'
    ],
    [
      /http_request_duration_seconds_count\{method="POST",route="\/v1\/transfers",status_code="201"\} 2\n/,
      'HTTP latency by route pattern'
    ],
    [/moolah_dependency_up\{dependency="postgres"\} 1\n/, 'Postgres up'],
    [/moolah_dependency_up\{dependency="redis"\} 1\n/, 'Redis up'],
    [/process_cpu_seconds_total/, 'process metrics']
  ] as const)
    t.match(text, pattern, what)

  const movements = lines.filter((line) => line.msg === 'money movement')
  t.equal(movements.length, 4, 'one log line per money answer')
  t.match(
    movements.find((line) => line.outcome === 'INSUFFICIENT_FUNDS'),
    {
      movement: 'transfer',
      statusCode: 422,
      principal: alice.id,
      fromWalletId: from.id,
      toWalletId: to.id,
      amount: 1_000_000
    }
  )
  t.notMatch(JSON.stringify(lines), alice.apiKey, 'no API key in any log line')
  t.notMatch(JSON.stringify(lines), ADMIN_TOKEN, 'no admin token in any log line')
})

t.test('/metrics without Redis: no redis gauge to report', async (t) => {
  const app = await buildApp(testConfig({ DATABASE_URL: await freshDatabase(t) }), { logger: false })
  t.teardown(() => app.close())
  const scrape = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
  })
  t.match(scrape.body, /moolah_dependency_up\{dependency="postgres"\} 1\n/)
  t.notMatch(scrape.body, /dependency="redis"/)
})
