import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix, type Teardown } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { Api } from './helpers/api.js'
import { TRANSFER_FIELDS, WALLET_FIELDS } from './helpers/contract-fields.js'
import { ADMIN_TOKEN, startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'
import { clientAddress } from '../src/rate-limit.js'

// Rate limiting (per API key, per client address when anonymous: an IPv6 client by its network,
// RATE_LIMIT_IPV6_PREFIX bits, /56 by default; shared through Redis) and the OpenAPI document,
// black-box against the contract.

async function serverEnv(t: Teardown, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const { prefix, url } = redisPrefix(t)
  return { DATABASE_URL: await freshDatabase(t), REDIS_URL: url, REDIS_KEY_PREFIX: prefix, ...extra }
}

function assertAllowed(
  t: Test,
  response: LightMyRequestResponse,
  limit: number,
  remaining: number,
  what: string
): void {
  t.equal(response.statusCode < 400, true, `${what}: allowed (${response.statusCode})`)
  t.equal(response.headers['x-ratelimit-limit'], String(limit), `${what}: x-ratelimit-limit`)
  t.equal(response.headers['x-ratelimit-remaining'], String(remaining), `${what}: x-ratelimit-remaining`)
}

function assertLimited(t: Test, response: LightMyRequestResponse, limit: number, what: string): void {
  t.equal(response.statusCode, 429, `${what}: 429`)
  t.match(response.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`)
  t.match(
    response.json(),
    { type: String, title: String, status: 429, detail: String, code: 'RATE_LIMITED' },
    `${what}: RATE_LIMITED`
  )
  t.equal(response.headers['x-ratelimit-limit'], String(limit), `${what}: x-ratelimit-limit`)
  t.equal(response.headers['x-ratelimit-remaining'], '0', `${what}: x-ratelimit-remaining`)
  const reset = Number(response.headers['x-ratelimit-reset'])
  t.ok(
    Number.isInteger(reset) && reset >= 0 && reset <= 60,
    `${what}: x-ratelimit-reset in seconds (${String(response.headers['x-ratelimit-reset'])})`
  )
  const retryAfter = Number(response.headers['retry-after'])
  t.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
    `${what}: retry-after in seconds (${String(response.headers['retry-after'])})`
  )
}

/** A well-formed API key that no user has. */
const wrongKey = () => `mk_${randomUUID().replaceAll('-', '')}${'x'.repeat(11)}`

// A key's first request on an instance is also counted in its address's unauthenticated budget
// (it costs a lookup); tests that are not about that budget give each client its own address.
const listWallets = (app: FastifyInstance, token: string, remoteAddress = '127.0.0.1') =>
  app.inject({
    method: 'GET',
    url: '/v1/wallets',
    remoteAddress,
    headers: { authorization: `Bearer ${token}` }
  })

t.test('rate limits, RATE_LIMIT_MAX=3', async (t) => {
  // Two instances on one Postgres and one Redis; the operator's three requests make the users.
  const env = await serverEnv(t, { RATE_LIMIT_MAX: '3' })
  const one = await startApp(t, env)
  const two = await startApp(t, env)
  const api = new Api(one)
  const a = await api.createUser('Ayanda')
  const b = await api.createUser('Bongi')
  const c = await api.createUser('Shared')
  // Anonymous, and with whatever credentials, from a client address.
  const catalog = (remoteAddress: string) =>
    one.inject({ method: 'GET', url: '/v1/catalog/flash', remoteAddress })
  const attempt = (remoteAddress: string, authorization?: string) =>
    one.inject({
      method: 'GET',
      url: '/v1/wallets',
      remoteAddress,
      headers: authorization === undefined ? {} : { authorization }
    })

  t.test(
    'the 4th request of one API key within the window is 429 RATE_LIMITED; another key still passes',
    async (t) => {
      for (let i = 1; i <= 3; i++)
        assertAllowed(t, await listWallets(one, a.apiKey), 3, 3 - i, `A's request ${i}`)
      const limited = await listWallets(one, a.apiKey)
      assertLimited(t, limited, 3, "A's request 4")
      t.notMatch(limited.body, /items/, 'no data in the refusal')
      assertLimited(
        t,
        await api.request({ method: 'GET', url: `/v1/wallets/${randomUUID()}`, token: a.apiKey }),
        3,
        "A's request on another route"
      )
      assertAllowed(t, await listWallets(one, b.apiKey), 3, 2, "B's first request")
    }
  )

  t.test('the operator is limited too, and its refused request creates nothing', async (t) => {
    const users = async () => {
      const result = await one.database.db.execute(sql`SELECT count(*)::int AS n FROM users`)
      return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ n: number }>
    }
    const before = await users()
    assertLimited(
      t,
      await api.request({
        method: 'POST',
        url: '/v1/users',
        token: ADMIN_TOKEN,
        payload: { name: 'Fourth' }
      }),
      3,
      "the operator's request 4"
    )
    t.same(await users(), before)
  })

  t.test('anonymous requests are limited per IP', async (t) => {
    for (let i = 1; i <= 3; i++)
      assertAllowed(t, await catalog('10.0.0.1'), 3, 3 - i, `request ${i} from 10.0.0.1`)
    assertLimited(t, await catalog('10.0.0.1'), 3, 'request 4 from 10.0.0.1')
    assertAllowed(t, await catalog('10.0.0.2'), 3, 2, 'another IP')
  })

  t.test('anonymous IPv6 clients are limited per /56 network, IPv4-mapped ones as their IPv4', async (t) => {
    // Any spelling of any address in 2001:db8:0:0::/56 (its /64s 2001:db8:0:0 … 2001:db8:0:ff) draws on one budget.
    const sameNetwork = ['2001:db8:0:1::1', '2001:db8:0:ff:ffff:ffff:ffff:ffff', '2001:DB8:0:1:0:0:0:2']
    for (const [i, address] of sameNetwork.entries())
      assertAllowed(t, await catalog(address), 3, 2 - i, `request ${i + 1}, from ${address}`)
    assertLimited(t, await catalog('2001:db8:0:42:abcd::9'), 3, 'request 4, from another /64 of the /56')
    assertAllowed(t, await catalog('2001:db8:0:100::1'), 3, 2, 'the next /56')

    assertAllowed(t, await catalog('::ffff:10.0.3.1'), 3, 2, '::ffff:10.0.3.1')
    assertAllowed(t, await catalog('10.0.3.1'), 3, 1, 'then 10.0.3.1: the same client')
    assertAllowed(t, await catalog('::FFFF:10.0.3.1'), 3, 0, 'then ::FFFF:10.0.3.1')
    assertLimited(t, await catalog('10.0.3.1'), 3, 'request 4 of 10.0.3.1')
    assertAllowed(t, await catalog('10.0.3.2'), 3, 2, 'IPv4 stays per address: 10.0.3.2')
  })

  t.test('requests without valid credentials from one IPv6 /56 share one budget', async (t) => {
    for (const address of ['2001:db8:1:5::1', '2001:db8:1:6::2', '2001:db8:1:5:1:2:3:4'])
      t.equal(
        (await attempt(address, `Bearer ${wrongKey()}`)).statusCode,
        401,
        `an unknown key from ${address}: 401`
      )
    assertLimited(t, await attempt('2001:db8:1:7::5', `Bearer ${wrongKey()}`), 3, 'the 4th from the /56')
    t.equal(
      (await attempt('2001:db8:1:105::1', `Bearer ${wrongKey()}`)).statusCode,
      401,
      'the next /56 has its own budget'
    )
  })

  t.test('requests without valid credentials are limited per IP before any lookup', async (t) => {
    for (let i = 1; i <= 3; i++)
      t.equal((await attempt('10.0.1.1', `Bearer ${wrongKey()}`)).statusCode, 401, `unknown key ${i}: 401`)
    assertLimited(t, await attempt('10.0.1.1', `Bearer ${wrongKey()}`), 3, 'unknown key 4')
    assertLimited(t, await attempt('10.0.1.1'), 3, 'then no credentials from the same address')
    assertLimited(t, await attempt('10.0.1.1', 'Bearer not-even-a-key'), 3, 'then a malformed token')
    assertLimited(
      t,
      await attempt('10.0.1.1', 'Bearer guessing-the-admin-token-000000000000'),
      3,
      'then admin-token guesses'
    )
    for (let i = 1; i <= 3; i++)
      t.equal((await attempt('10.0.1.2')).statusCode, 401, `no credentials from another address ${i}: 401`)
    assertLimited(t, await attempt('10.0.1.2'), 3, 'no credentials, 4th')
    const known = await one.inject({
      method: 'GET',
      url: '/v1/wallets',
      remoteAddress: '10.0.1.1',
      headers: { authorization: `Bearer ${b.apiKey}` }
    })
    t.equal(known.statusCode, 200, 'a key already known to the instance is not held back by its address')
  })

  t.test('the limit is shared by two instances on one Redis', async (t) => {
    const address = '10.0.2.1'
    assertAllowed(t, await listWallets(one, c.apiKey, address), 3, 2, 'request 1 on instance one')
    assertAllowed(t, await listWallets(two, c.apiKey, address), 3, 1, 'request 2 on instance two')
    assertAllowed(t, await listWallets(one, c.apiKey, address), 3, 0, 'request 3 on instance one')
    assertLimited(t, await listWallets(two, c.apiKey, address), 3, 'request 4 on instance two')
    assertLimited(t, await listWallets(one, c.apiKey, address), 3, 'request 5 on instance one')
  })
})

t.test(
  'a request whose socket is already gone (no address) is counted as one client, not an error',
  async (t) => {
    const gone = { ip: undefined } as unknown as FastifyRequest
    t.equal(clientAddress(gone, 56), 'unknown')
    t.equal(clientAddress({ ip: '2001:db8:0:ff::1' } as FastifyRequest, 56), '2001:db8::')
  }
)

t.test('RATE_LIMIT_IPV6_PREFIX sets the IPv6 network counted as one client', async (t) => {
  const app = await startApp(t, await serverEnv(t, { RATE_LIMIT_MAX: '1', RATE_LIMIT_IPV6_PREFIX: '64' }))
  const catalog = (remoteAddress: string) =>
    app.inject({ method: 'GET', url: '/v1/catalog/flash', remoteAddress })
  assertAllowed(t, await catalog('2001:db8:9:1::1'), 1, 0, 'a first /64')
  assertLimited(t, await catalog('2001:db8:9:1::2'), 1, 'another address of that /64')
  assertAllowed(t, await catalog('2001:db8:9:2::1'), 1, 0, 'another /64 of the same /56: a client of its own')
})

t.test('RATE_LIMIT_TRANSFERS_MAX applies to POST /v1/transfers', async (t) => {
  const app = await startApp(t, await serverEnv(t, { RATE_LIMIT_MAX: '50', RATE_LIMIT_TRANSFERS_MAX: '2' }))
  const api = new Api(app)
  const a = await api.createUser('Payer')
  const b = await api.createUser('Payee')
  const from = await api.createWallet(a)
  const to = await api.createWallet(b)
  t.equal((await api.deposit(from.id, 1_000)).statusCode, 201)

  for (let i = 1; i <= 2; i++) {
    const response = await api.transfer(a, { fromWalletId: from.id, toWalletId: to.id, amount: 100 })
    t.equal(response.statusCode, 201, `transfer ${i}`)
    t.equal(response.headers['x-ratelimit-limit'], '2', `transfer ${i}: the transfers limit`)
    t.equal(response.headers['x-ratelimit-remaining'], String(2 - i), `transfer ${i}: remaining`)
  }
  const key = randomUUID()
  const limited = await api.transfer(a, { fromWalletId: from.id, toWalletId: to.id, amount: 100 }, key)
  assertLimited(t, limited, 2, 'transfer 3')
  t.equal(await api.balance(a, from.id), 800, 'the refused transfer moved nothing')
  t.equal(await api.balance(b, to.id), 200)

  const other = await api.request({ method: 'GET', url: `/v1/wallets/${from.id}`, token: a.apiKey })
  t.equal(other.statusCode, 200, 'other routes of the same key still pass')
  t.equal(other.headers['x-ratelimit-limit'], '50', 'under RATE_LIMIT_MAX')
  const otherUser = await api.transfer(b, { fromWalletId: to.id, toWalletId: from.id, amount: 50 })
  t.equal(otherUser.statusCode, 201, "another key's transfers still pass")
  await checkLedger(t, app.database.db)
})

/** Every route of the contract, as OpenAPI paths. */
const CONTRACT_ROUTES: Array<[method: string, path: string, success: string]> = [
  ['post', '/v1/users', '201'],
  ['post', '/v1/wallets', '201'],
  ['get', '/v1/wallets', '200'],
  ['get', '/v1/wallets/{id}', '200'],
  ['get', '/v1/wallets/{id}/transactions', '200'],
  ['post', '/v1/deposits', '201'],
  ['post', '/v1/transfers', '201'],
  ['get', '/v1/transfers/{id}', '200'],
  ['post', '/v1/purchases', '201'],
  ['post', '/v1/purchases', '202'],
  ['get', '/v1/purchases/{id}', '200'],
  ['get', '/v1/catalog/{provider}', '200'],
  ['post', '/v1/catalog/{provider}/refresh', '200'],
  ['get', '/health/live', '200'],
  ['get', '/health/ready', '200']
]

interface Schema {
  type?: string
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  additionalProperties?: boolean
  $ref?: string
}
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Schema }>
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>
}

t.test('OpenAPI', async (t) => {
  const app = await startApp(t, await serverEnv(t))
  const response = await app.inject('/docs/json')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const doc = response.json() as {
    openapi: string
    info: { title: string; version: string }
    paths: Record<string, Record<string, Operation>>
  }
  t.match(doc.openapi, /^3\.\d+\.\d+$/, 'an OpenAPI 3 document')
  t.match(doc.info, { title: String, version: String })

  const successSchema = (method: string, path: string, status: string): Schema | undefined =>
    doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema
  const bodySchema = (path: string): Schema | undefined =>
    doc.paths[path]?.post?.requestBody?.content?.['application/json']?.schema
  const fields = (schema: Schema | undefined) => Object.keys(schema?.properties ?? {}).sort()

  t.test('every route of the contract, with its success response schema', async (t) => {
    for (const [method, path, status] of CONTRACT_ROUTES) {
      const operation = doc.paths[path]?.[method]
      t.ok(operation, `${method.toUpperCase()} ${path} is documented`)
      t.ok(successSchema(method, path, status), `${method.toUpperCase()} ${path}: ${status} response schema`)
    }
  })

  t.test('request schemas', async (t) => {
    t.same(fields(bodySchema('/v1/users')), ['name'])
    t.same(bodySchema('/v1/users')?.required, ['name'])
    t.same(fields(bodySchema('/v1/wallets')), ['currency'])
    t.same(fields(bodySchema('/v1/deposits')), ['amount', 'reference', 'walletId'])
    t.same([...(bodySchema('/v1/deposits')?.required ?? [])].sort(), ['amount', 'walletId'])
    t.same(fields(bodySchema('/v1/transfers')), [
      'amount',
      'currency',
      'fromWalletId',
      'reference',
      'toWalletId'
    ])
    t.same([...(bodySchema('/v1/transfers')?.required ?? [])].sort(), [
      'amount',
      'currency',
      'fromWalletId',
      'toWalletId'
    ])
    t.same(fields(bodySchema('/v1/purchases')), [
      'amount',
      'productId',
      'provider',
      'recipient',
      'reference',
      'walletId'
    ])
    t.same([...(bodySchema('/v1/purchases')?.required ?? [])].sort(), ['productId', 'provider', 'walletId'])
    for (const path of ['/v1/users', '/v1/wallets', '/v1/deposits', '/v1/transfers', '/v1/purchases']) {
      t.equal(bodySchema(path)?.additionalProperties, false, `${path}: unknown properties are rejected`)
    }
    t.match(
      bodySchema('/v1/transfers')?.properties?.amount,
      { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      'amounts are positive safe integers'
    )

    const params = (method: string, path: string) =>
      (doc.paths[path]?.[method]?.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort()
    t.same(params('get', '/v1/wallets/{id}'), ['path:id'])
    t.same(params('get', '/v1/wallets/{id}/transactions'), ['path:id', 'query:cursor', 'query:limit'])
    t.match(
      doc.paths['/v1/wallets/{id}/transactions']?.get?.parameters?.find((p) => p.name === 'limit')?.schema,
      { type: 'integer', minimum: 1, maximum: 100, default: 20 }
    )
    t.same(params('get', '/v1/transfers/{id}'), ['path:id'])
    t.same(params('get', '/v1/purchases/{id}'), ['path:id'])
    t.same(params('get', '/v1/catalog/{provider}'), ['path:provider'])
    for (const path of ['/v1/wallets', '/v1/deposits', '/v1/transfers', '/v1/purchases']) {
      t.ok(
        params('post', path).includes('header:idempotency-key'),
        `${path}: the Idempotency-Key header is documented`
      )
    }
  })

  t.test('response schemas carry the contract fields', async (t) => {
    t.same(fields(successSchema('post', '/v1/users', '201')), ['apiKey', 'createdAt', 'id', 'name'])
    t.same(fields(successSchema('post', '/v1/wallets', '201')), WALLET_FIELDS)
    t.same(fields(successSchema('get', '/v1/wallets/{id}', '200')), WALLET_FIELDS)
    t.same(fields(successSchema('get', '/v1/wallets', '200')?.properties?.items?.items), WALLET_FIELDS)
    t.same(fields(successSchema('post', '/v1/transfers', '201')), TRANSFER_FIELDS)
    t.same(fields(successSchema('get', '/v1/transfers/{id}', '200')), TRANSFER_FIELDS)
    const deposit = fields(successSchema('post', '/v1/deposits', '201'))
    for (const field of ['amount', 'createdAt', 'currency', 'id', 'walletId'])
      t.ok(deposit.includes(field), `deposit: ${field}`)
    const history = successSchema('get', '/v1/wallets/{id}/transactions', '200')
    t.same(fields(history), ['items', 'nextCursor'])
    const entry = fields(history?.properties?.items?.items)
    for (const field of [
      'id',
      'walletId',
      'kind',
      'direction',
      'amount',
      'balanceAfter',
      'transferId',
      'depositId',
      'purchaseId',
      'counterpartyWalletId',
      'reference',
      'createdAt'
    ]) {
      t.ok(entry.includes(field), `history entry: ${field}`)
    }
    const purchase = [
      'amount',
      'catalogVersion',
      'createdAt',
      'currency',
      'failureCode',
      'fulfilment',
      'id',
      'productId',
      'provider',
      'recipient',
      'reference',
      'settledAt',
      'status',
      'walletId'
    ]
    t.same(fields(successSchema('post', '/v1/purchases', '201')), purchase)
    t.same(fields(successSchema('post', '/v1/purchases', '202')), purchase)
    t.same(fields(successSchema('get', '/v1/purchases/{id}', '200')), purchase)
    t.same(fields(successSchema('get', '/v1/catalog/{provider}', '200')), [
      'products',
      'provider',
      'updatedAt',
      'version'
    ])
    t.same(fields(successSchema('post', '/v1/catalog/{provider}/refresh', '200')), [
      'count',
      'provider',
      'version'
    ])
  })

  t.test('error responses are documented as problems with a code', async (t) => {
    const errors: Array<[string, string, string]> = [
      ['post', '/v1/transfers', '400'],
      ['post', '/v1/transfers', '404'],
      ['post', '/v1/transfers', '422'],
      ['post', '/v1/transfers', '429'],
      ['post', '/v1/purchases', '404'],
      ['post', '/v1/purchases', '422'],
      ['get', '/v1/purchases/{id}', '404'],
      ['get', '/v1/wallets/{id}', '404'],
      ['post', '/v1/users', '401'],
      ['post', '/v1/users', '403'],
      ['post', '/v1/catalog/{provider}/refresh', '502']
    ]
    for (const [method, path, status] of errors) {
      const content = doc.paths[path]?.[method]?.responses?.[status]?.content ?? {}
      const schema = Object.values(content)[0]?.schema
      t.ok(fields(schema).includes('code'), `${method.toUpperCase()} ${path} ${status}: a problem with code`)
    }
  })

  t.test('/docs answers with the UI', async (t) => {
    let docs = await app.inject('/docs')
    for (let hops = 0; docs.statusCode >= 300 && docs.statusCode < 400 && hops < 3; hops++) {
      const location = String(docs.headers.location)
      docs = await app.inject(location.startsWith('/') ? location : `/docs/${location.replace(/^\.\//, '')}`)
    }
    t.equal(docs.statusCode, 200)
    t.match(docs.headers['content-type'], /^text\/html/)
    t.match(docs.body, /<html/i)
  })
})
