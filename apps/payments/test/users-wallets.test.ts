import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { TRANSFER_FIELDS, WALLET_FIELDS } from './helpers/contract-fields.js'
import { Api, type TestUser } from './helpers/api.js'
import { ADMIN_TOKEN, startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

// Users, wallets, wallet history and transfer visibility, black-box against the contract.

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

// One instance for the whole file: every test makes its own users, and counts rows relative
// to what it found before.
const { prefix, url } = redisPrefix(t)
const app = await startApp(t, {
  DATABASE_URL: await freshDatabase(t),
  REDIS_URL: url,
  REDIS_KEY_PREFIX: prefix
})
const api = new Api(app)

async function rowsOf(
  app: FastifyInstance,
  query: ReturnType<typeof sql>
): Promise<Array<Record<string, unknown>>> {
  const result = await app.database.db.execute(query)
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<
    Record<string, unknown>
  >
}

async function count(
  app: FastifyInstance,
  table: 'users' | 'wallets' | 'transfers' | 'deposits'
): Promise<number> {
  const [row] = await rowsOf(app, sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`)
  return Number(row?.n)
}

t.test('users', async (t) => {
  t.test('creating one needs the operator token', async (t) => {
    const someone = await api.createUser('Someone')
    const cases = [
      { name: 'no token', token: undefined, status: 401, code: 'UNAUTHORIZED' },
      { name: 'unknown token', token: 'not-the-admin-token-at-all', status: 401, code: 'UNAUTHORIZED' },
      { name: 'almost the admin token', token: `${ADMIN_TOKEN}x`, status: 401, code: 'UNAUTHORIZED' },
      { name: 'a user API key', token: someone.apiKey, status: 403, code: 'FORBIDDEN' }
    ]
    const before = await count(app, 'users')
    for (const { name, token, status, code } of cases) {
      const response = await api.request({
        method: 'POST',
        url: '/v1/users',
        ...(token === undefined ? {} : { token }),
        payload: { name: 'Mallory' }
      })
      t.equal(response.statusCode, status, `${name}: ${status}`)
      t.match(response.headers['content-type'], /^application\/problem\+json/)
      t.match(
        response.json(),
        { type: String, title: String, status, detail: String, code },
        `${name}: ${code}`
      )
    }
    const lowerScheme = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { authorization: `Token ${ADMIN_TOKEN}` },
      payload: { name: 'Mallory' }
    })
    t.equal(lowerScheme.statusCode, 401, 'another auth scheme is not a bearer token')
    t.equal(await count(app, 'users'), before, 'no user was created')
  })

  t.test('201 with the API key, shown once; the key works', async (t) => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/users',
      token: ADMIN_TOKEN,
      payload: { name: 'Naledi' }
    })
    t.equal(response.statusCode, 201)
    t.match(response.headers['content-type'], /^application\/json/)
    const user = response.json()
    t.same(Object.keys(user).sort(), ['apiKey', 'createdAt', 'id', 'name'])
    t.match(user, { id: String, name: 'Naledi', apiKey: String, createdAt: RFC_3339 })
    t.ok(user.apiKey.length >= 32, 'a long random key')

    const wallets = await api.request({ method: 'GET', url: '/v1/wallets', token: user.apiKey })
    t.equal(wallets.statusCode, 200, 'the key authenticates')
    t.same(wallets.json(), { items: [] })

    const other = await api.createUser('Naledi')
    t.not(other.apiKey, user.apiKey, 'every user gets a key of their own')
    t.not(other.id, user.id)

    const name100 = await api.request({
      method: 'POST',
      url: '/v1/users',
      token: ADMIN_TOKEN,
      payload: { name: 'n'.repeat(100) }
    })
    t.equal(name100.statusCode, 201, 'a 100-character name is fine')
  })

  t.test('keys are stored hashed, never in plain text', async (t) => {
    const user = await api.createUser('Lindiwe')
    const rows = await rowsOf(app, sql`SELECT u::text AS row FROM users u`)
    t.ok(rows.length > 0)
    for (const { row } of rows) t.notOk(String(row).includes(user.apiKey), 'no users row contains the key')
    // Nor any other table: the key must not have leaked into, say, an idempotency column.
    const everywhere = await rowsOf(
      app,
      sql`
      SELECT count(*)::int AS n FROM (
        SELECT u::text AS t FROM users u UNION ALL SELECT w::text FROM wallets w
        UNION ALL SELECT d::text FROM deposits d UNION ALL SELECT x::text FROM transfers x
      ) everything WHERE position(${user.apiKey} in t) > 0`
    )
    t.same(everywhere, [{ n: 0 }], 'the key is nowhere in the database')
  })
})

t.test('wallets', async (t) => {
  const a = await api.createUser('Ayanda')
  const b = await api.createUser('Buhle')

  t.test('201 with Location, ZAR by default', async (t) => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key: randomUUID(),
      payload: {}
    })
    t.equal(response.statusCode, 201)
    const wallet = response.json()
    t.same(Object.keys(wallet).sort(), WALLET_FIELDS)
    t.match(wallet, { id: String, ownerId: a.id, currency: 'ZAR', balance: 0, createdAt: RFC_3339 })
    t.equal(response.headers.location, `/v1/wallets/${wallet.id}`)
    const fetched = await api.request({
      method: 'GET',
      url: response.headers.location as string,
      token: a.apiKey
    })
    t.equal(fetched.statusCode, 200, 'Location points at the wallet')
    t.same(fetched.json(), wallet)
  })

  t.test('USD works', async (t) => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key: randomUUID(),
      payload: { currency: 'USD' }
    })
    t.equal(response.statusCode, 201)
    t.match(response.json(), { ownerId: a.id, currency: 'USD', balance: 0 })
  })

  t.test('GET /v1/wallets lists only your own wallets', async (t) => {
    const mine = await api.request({ method: 'GET', url: '/v1/wallets', token: a.apiKey })
    const theirsBefore = await api.request({ method: 'GET', url: '/v1/wallets', token: b.apiKey })
    t.same(theirsBefore.json(), { items: [] }, 'B has none yet')
    const bWallet = await api.createWallet(b)
    const after = await api.request({ method: 'GET', url: '/v1/wallets', token: a.apiKey })
    t.equal(after.statusCode, 200)
    t.same(after.json(), mine.json(), "B's new wallet does not show up for A")
    const items = after.json().items as Array<Record<string, unknown>>
    t.equal(items.length, 2)
    for (const item of items) {
      t.same(Object.keys(item).sort(), WALLET_FIELDS)
      t.equal(item.ownerId, a.id)
    }
    t.same(
      (await api.request({ method: 'GET', url: '/v1/wallets', token: b.apiKey }))
        .json()
        .items.map((w: { id: string }) => w.id),
      [bWallet.id]
    )
    const anonymous = await api.request({ method: 'GET', url: '/v1/wallets' })
    t.equal(anonymous.statusCode, 401)
    t.equal(anonymous.json().code, 'UNAUTHORIZED')
    const admin = await api.request({ method: 'GET', url: '/v1/wallets', token: ADMIN_TOKEN })
    t.equal(admin.statusCode, 403)
    t.equal(admin.json().code, 'FORBIDDEN')
  })

  t.test("another user's wallet is 404 WALLET_NOT_FOUND, never 403", async (t) => {
    const bWallet = await api.createWallet(b)
    const response = await api.request({ method: 'GET', url: `/v1/wallets/${bWallet.id}`, token: a.apiKey })
    t.equal(response.statusCode, 404)
    t.match(response.headers['content-type'], /^application\/problem\+json/)
    t.match(response.json(), { status: 404, code: 'WALLET_NOT_FOUND' })
    t.notMatch(response.body, new RegExp(b.id), 'the owner is not revealed')
    const owner = await api.request({ method: 'GET', url: `/v1/wallets/${bWallet.id}`, token: b.apiKey })
    t.equal(owner.statusCode, 200, 'the owner sees it')
  })

  t.test('a replay with the same key answers the same wallet, marked Idempotent-Replayed', async (t) => {
    const key = randomUUID()
    const first = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key,
      payload: { currency: 'USD' }
    })
    t.equal(first.statusCode, 201)
    t.equal(first.headers['idempotent-replayed'], undefined, 'the first answer is not a replay')
    const walletsBefore = await count(app, 'wallets')

    const again = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key,
      payload: { currency: 'USD' }
    })
    t.equal(again.statusCode, 201)
    t.equal(again.headers['idempotent-replayed'], 'true')
    t.equal(again.body, first.body, 'the same body bytes')
    t.equal(again.headers['content-type'], first.headers['content-type'])
    t.equal(again.headers.location, first.headers.location)

    const quoted = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key: `"${key}"`,
      payload: { currency: 'USD' }
    })
    t.equal(quoted.statusCode, 201, 'the structured-field string form is the same key')
    t.equal(quoted.body, first.body)
    t.equal(quoted.headers['idempotent-replayed'], 'true')

    const alias = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      headers: { 'x-idempotency-key': key },
      payload: { currency: 'USD' }
    })
    t.equal(alias.statusCode, 201, 'X-Idempotency-Key is an alias')
    t.equal(alias.body, first.body)

    const different = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key,
      payload: { currency: 'ZAR' }
    })
    t.equal(different.statusCode, 422, 'the same key for another request')
    t.equal(different.json().code, 'IDEMPOTENCY_KEY_REUSED')
    t.equal(await count(app, 'wallets'), walletsBefore, 'no second wallet')
  })

  t.test('the cached answer gone, the database still answers the same wallet', async (t) => {
    const key = randomUUID()
    const first = await api.request({ method: 'POST', url: '/v1/wallets', token: a.apiKey, key, payload: {} })
    const walletsBefore = await count(app, 'wallets')
    // Flush only this instance's idempotency records.
    const redis = (
      app as unknown as {
        redis: {
          scan(...args: unknown[]): Promise<[string, string[]]>
          unlink(...keys: string[]): Promise<number>
        }
      }
    ).redis
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${app.config.redisKeyPrefix}idempotency:*`,
        'COUNT',
        1000
      )
      if (keys.length > 0) await redis.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
    const retried = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key,
      payload: {}
    })
    t.equal(retried.statusCode, 201)
    t.equal(retried.json().id, first.json().id, 'the same wallet')
    t.equal(await count(app, 'wallets'), walletsBefore)
    const reused = await api.request({
      method: 'POST',
      url: '/v1/wallets',
      token: a.apiKey,
      key,
      payload: { currency: 'USD' }
    })
    t.equal(reused.statusCode, 422)
    t.equal(reused.json().code, 'IDEMPOTENCY_KEY_REUSED')
  })
})

interface Entry {
  id: string
  walletId: string
  kind: 'transfer' | 'deposit'
  direction: 'debit' | 'credit'
  amount: number
  balanceAfter: number
  transferId?: string | null
  depositId?: string | null
  counterpartyWalletId: string | null
  reference: string | null
  createdAt: string
}

async function allPages(
  t: Test,
  api: Api,
  user: TestUser,
  walletId: string,
  limit: number
): Promise<{ entries: Entry[]; pages: number[] }> {
  const entries: Entry[] = []
  const pages: number[] = []
  let cursor: string | null = null
  do {
    const query: string =
      cursor === null ? `limit=${limit}` : `limit=${limit}&cursor=${encodeURIComponent(cursor)}`
    const response = await api.request({
      method: 'GET',
      url: `/v1/wallets/${walletId}/transactions?${query}`,
      token: user.apiKey
    })
    t.equal(response.statusCode, 200, `page ${pages.length + 1}`)
    const page = response.json() as { items: Entry[]; nextCursor: string | null }
    t.equal(Object.keys(page).sort().join(), 'items,nextCursor')
    entries.push(...page.items)
    pages.push(page.items.length)
    cursor = page.nextCursor
    if (pages.length > 50) throw new Error('history paging does not end')
  } while (cursor !== null)
  return { entries, pages }
}

t.test('wallet history, newest first, paged with nextCursor', async (t) => {
  const a = await api.createUser('Anele')
  const b = await api.createUser('Bheki')
  const c = await api.createUser('Cebo')
  const wa = await api.createWallet(a)
  const wb = await api.createWallet(b)

  const deposit1 = await api.request({
    method: 'POST',
    url: '/v1/deposits',
    token: ADMIN_TOKEN,
    key: randomUUID(),
    payload: { walletId: wa.id, amount: 10_000, reference: 'salary' }
  })
  t.equal(deposit1.statusCode, 201)
  t.same(
    Object.keys(deposit1.json())
      .filter((k) => k !== 'reference')
      .sort(),
    ['amount', 'createdAt', 'currency', 'id', 'walletId']
  )
  t.match(deposit1.json(), {
    id: String,
    walletId: wa.id,
    amount: 10_000,
    currency: 'ZAR',
    createdAt: RFC_3339
  })
  const t1 = await api.transfer(a, {
    fromWalletId: wa.id,
    toWalletId: wb.id,
    amount: 1_000,
    reference: 'rent share'
  })
  const t2 = await api.transfer(b, { fromWalletId: wb.id, toWalletId: wa.id, amount: 300 })
  const t3 = await api.transfer(a, {
    fromWalletId: wa.id,
    toWalletId: wb.id,
    amount: 250,
    reference: 'lunch'
  })
  const deposit2 = await api.deposit(wa.id, 75)
  for (const response of [t1, t2, t3, deposit2]) t.equal(response.statusCode, 201)

  // Newest first: what each line of A's wallet must say.
  const expected = [
    {
      kind: 'deposit',
      direction: 'credit',
      amount: 75,
      balanceAfter: 9_125,
      depositId: deposit2.json().id,
      counterpartyWalletId: null,
      reference: null
    },
    {
      kind: 'transfer',
      direction: 'debit',
      amount: 250,
      balanceAfter: 9_050,
      transferId: t3.json().id,
      counterpartyWalletId: wb.id,
      reference: 'lunch'
    },
    {
      kind: 'transfer',
      direction: 'credit',
      amount: 300,
      balanceAfter: 9_300,
      transferId: t2.json().id,
      counterpartyWalletId: wb.id,
      reference: null
    },
    {
      kind: 'transfer',
      direction: 'debit',
      amount: 1_000,
      balanceAfter: 9_000,
      transferId: t1.json().id,
      counterpartyWalletId: wb.id,
      reference: 'rent share'
    },
    {
      kind: 'deposit',
      direction: 'credit',
      amount: 10_000,
      balanceAfter: 10_000,
      depositId: deposit1.json().id,
      counterpartyWalletId: null,
      reference: 'salary'
    }
  ]

  const { entries, pages } = await allPages(t, api, a, wa.id, 2)
  t.same(pages, [2, 2, 1], 'three pages of 2, 2 and 1 lines, the last with nextCursor null')
  t.equal(entries.length, expected.length)
  entries.forEach((entry, index) => {
    const want = expected[index] as Record<string, unknown>
    t.match(entry, { id: String, walletId: wa.id, createdAt: RFC_3339, ...want }, `line ${index}`)
    const keys = Object.keys(entry)
    for (const field of [
      'id',
      'walletId',
      'kind',
      'direction',
      'amount',
      'balanceAfter',
      'counterpartyWalletId',
      'reference',
      'createdAt'
    ]) {
      t.ok(keys.includes(field), `line ${index} has ${field}`)
    }
    // Exactly one of transferId / depositId identifies the movement.
    if (entry.kind === 'transfer')
      t.ok(entry.depositId === undefined || entry.depositId === null, `line ${index}: no depositId`)
    else t.ok(entry.transferId === undefined || entry.transferId === null, `line ${index}: no transferId`)
  })
  t.equal(new Set(entries.map((e) => e.id)).size, entries.length, 'no line repeats across pages')
  const times = entries.map((e) => Date.parse(e.createdAt))
  t.ok(
    times.every((time, i) => i === 0 || time <= (times[i - 1] as number)),
    'newest first'
  )

  // balanceAfter chains, oldest to newest, and ends at the balance.
  const oldestFirst = [...entries].reverse()
  let running = 0
  for (const entry of oldestFirst) {
    running += entry.direction === 'credit' ? entry.amount : -entry.amount
    t.equal(entry.balanceAfter, running, `balanceAfter of ${entry.id}`)
  }
  t.equal(await api.balance(a, wa.id), running, 'the last balanceAfter is the balance')

  const whole = await api.request({
    method: 'GET',
    url: `/v1/wallets/${wa.id}/transactions`,
    token: a.apiKey
  })
  t.same(
    whole.json(),
    { items: entries, nextCursor: null },
    'the default page (20) holds everything, the same lines'
  )
  const exact = await api.request({
    method: 'GET',
    url: `/v1/wallets/${wa.id}/transactions?limit=5`,
    token: a.apiKey
  })
  t.equal(exact.json().nextCursor, null, 'a page that holds the last line has no next cursor')

  const bSide = await allPages(t, api, b, wb.id, 100)
  t.same(
    bSide.entries.map((e) => [e.direction, e.amount, e.balanceAfter, e.transferId, e.counterpartyWalletId]),
    [
      ['credit', 250, 950, t3.json().id, wa.id],
      ['debit', 300, 700, t2.json().id, wa.id],
      ['credit', 1_000, 1_000, t1.json().id, wa.id]
    ],
    "B's side of the same transfers"
  )

  const empty = await api.createWallet(a)
  const none = await api.request({
    method: 'GET',
    url: `/v1/wallets/${empty.id}/transactions`,
    token: a.apiKey
  })
  t.same(none.json(), { items: [], nextCursor: null }, 'a new wallet has no history')

  for (const [who, token] of [
    ['C', c.apiKey],
    ['B', b.apiKey]
  ] as const) {
    const foreign = await api.request({ method: 'GET', url: `/v1/wallets/${wa.id}/transactions`, token })
    t.equal(foreign.statusCode, 404, `${who} cannot read A's history`)
    t.equal(foreign.json().code, 'WALLET_NOT_FOUND')
    t.notMatch(foreign.body, /salary|rent share|lunch/, 'nothing of the history leaks')
  }
  await checkLedger(t, app.database.db)
})

t.test('a transfer is visible to the owners of both wallets and to no one else', async (t) => {
  const a = await api.createUser('Ama')
  const b = await api.createUser('Bo')
  const c = await api.createUser('Cy')
  const wa = await api.createWallet(a)
  const wb = await api.createWallet(b)
  t.equal((await api.deposit(wa.id, 5_000)).statusCode, 201)

  const created = await api.transfer(a, {
    fromWalletId: wa.id,
    toWalletId: wb.id,
    amount: 1_234,
    reference: 'for the taxi'
  })
  t.equal(created.statusCode, 201)
  const transfer = created.json()
  t.same(Object.keys(transfer).sort(), TRANSFER_FIELDS)
  t.match(transfer, {
    id: String,
    fromWalletId: wa.id,
    toWalletId: wb.id,
    amount: 1_234,
    currency: 'ZAR',
    reference: 'for the taxi',
    status: 'completed',
    createdAt: RFC_3339
  })
  t.equal(created.headers.location, `/v1/transfers/${transfer.id}`)

  for (const [who, user] of [
    ['sender', a],
    ['recipient', b]
  ] as const) {
    const response = await api.request({
      method: 'GET',
      url: `/v1/transfers/${transfer.id}`,
      token: user.apiKey
    })
    t.equal(response.statusCode, 200, `the ${who} sees it`)
    t.same(response.json(), transfer)
  }
  const third = await api.request({ method: 'GET', url: `/v1/transfers/${transfer.id}`, token: c.apiKey })
  t.equal(third.statusCode, 404)
  t.match(third.json(), { status: 404, code: 'TRANSFER_NOT_FOUND' })
  t.notMatch(third.body, /taxi|1234/, 'nothing of the transfer leaks')
  const admin = await api.request({ method: 'GET', url: `/v1/transfers/${transfer.id}`, token: ADMIN_TOKEN })
  t.equal(admin.statusCode, 403, 'a user route refuses the operator token')
  t.equal(admin.json().code, 'FORBIDDEN')

  const noReference = await api.transfer(a, { fromWalletId: wa.id, toWalletId: wb.id, amount: 1 })
  t.equal(noReference.json().reference, null, 'no reference is null')
  const wallet = await api.request({ method: 'GET', url: `/v1/wallets/${wa.id}`, token: a.apiKey })
  t.equal(wallet.json().balance, 5_000 - 1_234 - 1)
  await checkLedger(t, app.database.db)
})

t.test('idempotency keys are scoped to the principal', async (t) => {
  const a = await api.createUser('Andile')
  const b = await api.createUser('Busi')
  const key = `shared-${randomUUID()}`

  const walletA = await api.request({
    method: 'POST',
    url: '/v1/wallets',
    token: a.apiKey,
    key,
    payload: { currency: 'ZAR' }
  })
  const walletB = await api.request({
    method: 'POST',
    url: '/v1/wallets',
    token: b.apiKey,
    key,
    payload: { currency: 'ZAR' }
  })
  t.equal(walletA.statusCode, 201)
  t.equal(walletB.statusCode, 201)
  t.equal(walletB.headers['idempotent-replayed'], undefined, "B's request is not a replay of A's")
  t.not(walletB.json().id, walletA.json().id, 'two wallets')
  t.equal(walletA.json().ownerId, a.id)
  t.equal(walletB.json().ownerId, b.id)

  // A second wallet each, to transfer into, then the same key for a transfer by each user.
  const sinkA = await api.createWallet(a)
  const sinkB = await api.createWallet(b)
  const wa = walletA.json().id as string
  const wb = walletB.json().id as string
  t.equal((await api.deposit(wa, 1_000, key)).statusCode, 201)
  const secondDeposit = await api.deposit(wb, 1_000, key)
  t.equal(
    secondDeposit.statusCode,
    422,
    'the operator is one principal: its key is already used for another deposit'
  )
  t.equal(secondDeposit.json().code, 'IDEMPOTENCY_KEY_REUSED')
  t.equal((await api.deposit(wb, 1_000)).statusCode, 201)

  const transfersBefore = await count(app, 'transfers')
  const fromA = await api.transfer(a, { fromWalletId: wa, toWalletId: sinkA.id, amount: 100 }, key)
  const fromB = await api.transfer(b, { fromWalletId: wb, toWalletId: sinkB.id, amount: 100 }, key)
  t.equal(fromA.statusCode, 201)
  t.equal(fromB.statusCode, 201)
  t.equal(fromB.headers['idempotent-replayed'], undefined)
  t.not(fromB.json().id, fromA.json().id, 'two transfers')
  t.equal(await count(app, 'transfers'), transfersBefore + 2)
  t.equal(await api.balance(a, sinkA.id), 100)
  t.equal(await api.balance(b, sinkB.id), 100)

  const replayA = await api.transfer(a, { fromWalletId: wa, toWalletId: sinkA.id, amount: 100 }, key)
  t.equal(replayA.statusCode, 201)
  t.equal(replayA.headers['idempotent-replayed'], 'true')
  t.equal(replayA.body, fromA.body, "A's retry replays A's transfer")
  t.equal(await count(app, 'transfers'), transfersBefore + 2, 'the replay moved nothing')
  t.equal(await api.balance(a, wa), 900)
  await checkLedger(t, app.database.db)
})
