import { randomUUID } from 'node:crypto'
import { freshDatabase, redisPrefix } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { Api, type TestUser } from './helpers/api.js'
import { ADMIN_TOKEN, startApp } from './helpers/app.js'
import { checkLedger } from './helpers/ledger-invariants.js'

// Malformed and refused requests, against the HTTP contract (docs/payments-api.md): each is
// answered with the documented status and `code` as an application/problem+json document,
// never a 5xx, and leaves the database exactly as it was.

interface Fixture {
  a: TestUser
  /** A user who owns nothing A's requests touch. */
  third: TestUser
  /** A's funded ZAR wallet. */
  walletA: string
  /** A's second ZAR wallet, empty. */
  walletA2: string
  /** A's USD wallet, empty. */
  walletAUsd: string
  /** B's ZAR wallet, funded. */
  walletB: string
  transferId: string
  systemWalletId: string
  cursor: string
}

type Who = 'admin' | 'a' | 'third' | 'none' | 'bogus'

interface Row {
  name: string
  method: 'GET' | 'POST'
  url: string
  who: Who
  /** undefined: a fresh random key on POST routes; null: no key at all; a string: that header value. */
  key?: string | null
  payload?: unknown
  headers?: Record<string, string>
  status: number
  code: string
}

const FUNDED = 10_000
const PADDING = 'x'.repeat(65 * 1024)
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000'

function rows(f: Fixture): Row[] {
  const transfer = (body: Record<string, unknown>) => ({
    fromWalletId: f.walletA,
    toWalletId: f.walletB,
    amount: 100,
    currency: 'ZAR',
    ...body
  })
  const deposit = (body: Record<string, unknown>) => ({ walletId: f.walletA, amount: 100, ...body })
  const without = (body: Record<string, unknown>, field: string) =>
    Object.fromEntries(Object.entries(body).filter(([name]) => name !== field))
  const json = { 'content-type': 'application/json' }
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const V = 'VALIDATION_ERROR'

  const users: Row[] = [
    { name: 'users: name missing', payload: {}, status: 400, code: V },
    { name: 'users: name empty', payload: { name: '' }, status: 400, code: V },
    { name: 'users: name of 101 characters', payload: { name: 'n'.repeat(101) }, status: 400, code: V },
    { name: 'users: name is a number', payload: { name: 42 }, status: 400, code: V },
    { name: 'users: NUL in the name', payload: { name: 'Thandi\u0000' }, status: 400, code: V },
    { name: 'users: name is null', payload: { name: null }, status: 400, code: V },
    { name: 'users: unknown field', payload: { name: 'Sipho', role: 'admin' }, status: 400, code: V },
    { name: 'users: body is an array', payload: [{ name: 'Sipho' }], status: 400, code: V },
    { name: 'users: malformed JSON', payload: '{"name":', headers: json, status: 400, code: V },
    { name: 'users: empty JSON body', payload: '', headers: json, status: 400, code: V },
    {
      name: 'users: form-encoded body',
      payload: 'name=Sipho',
      headers: form,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE'
    },
    {
      name: 'users: body over 64 KiB',
      payload: { name: 'Sipho', pad: PADDING },
      status: 413,
      code: 'PAYLOAD_TOO_LARGE'
    },
    {
      name: 'users: a user key on an admin route',
      who: 'a',
      payload: { name: 'Sipho' },
      status: 403,
      code: 'FORBIDDEN'
    },
    { name: 'users: no token', who: 'none', payload: { name: 'Sipho' }, status: 401, code: 'UNAUTHORIZED' }
  ].map((row) => ({ method: 'POST', url: '/v1/users', who: 'admin', ...row }) as Row)

  const wallets: Row[] = [
    {
      name: 'wallets: unsupported currency',
      payload: { currency: 'EUR' },
      status: 422,
      code: 'UNSUPPORTED_CURRENCY'
    },
    {
      name: 'wallets: lower-case currency',
      payload: { currency: 'zar' },
      status: 422,
      code: 'UNSUPPORTED_CURRENCY'
    },
    { name: 'wallets: currency is a number', payload: { currency: 710 }, status: 400, code: V },
    { name: 'wallets: currency empty', payload: { currency: '' }, status: 400, code: V },
    { name: 'wallets: currency null', payload: { currency: null }, status: 400, code: V },
    {
      name: 'wallets: unknown field',
      payload: { currency: 'ZAR', balance: 1_000_000 },
      status: 400,
      code: V
    },
    { name: 'wallets: malformed JSON', payload: '{"currency": ZAR}', headers: json, status: 400, code: V },
    {
      name: 'wallets: form-encoded body',
      payload: 'currency=ZAR',
      headers: form,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE'
    },
    {
      name: 'wallets: Idempotency-Key missing',
      key: null,
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_MISSING'
    },
    {
      name: 'wallets: Idempotency-Key of 256 characters',
      key: 'k'.repeat(256),
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: Idempotency-Key with a control character',
      key: 'key\x01',
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: Idempotency-Key with DEL',
      key: 'key\x7f',
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: empty Idempotency-Key',
      key: '',
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: Idempotency-Key, unterminated quoted form',
      key: '"abc',
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: Idempotency-Key, empty quoted form',
      key: '""',
      payload: { currency: 'ZAR' },
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'wallets: the operator token on a user route',
      who: 'admin',
      payload: { currency: 'ZAR' },
      status: 403,
      code: 'FORBIDDEN'
    },
    {
      name: 'wallets: unknown bearer token',
      who: 'bogus',
      payload: { currency: 'ZAR' },
      status: 401,
      code: 'UNAUTHORIZED'
    }
  ].map((row) => ({ method: 'POST', url: '/v1/wallets', who: 'a', ...row }) as Row)

  const deposits: Row[] = [
    { name: 'deposits: amount 1.5', payload: deposit({ amount: 1.5 }), status: 400, code: V },
    { name: 'deposits: amount "100"', payload: deposit({ amount: '100' }), status: 400, code: V },
    { name: 'deposits: amount 0', payload: deposit({ amount: 0 }), status: 400, code: V },
    { name: 'deposits: amount -100', payload: deposit({ amount: -100 }), status: 400, code: V },
    { name: 'deposits: amount "NaN"', payload: deposit({ amount: 'NaN' }), status: 400, code: V },
    { name: 'deposits: amount null', payload: deposit({ amount: null }), status: 400, code: V },
    {
      name: 'deposits: amount NaN literal (not JSON)',
      payload: `{"walletId":"${f.walletA}","amount":NaN}`,
      headers: json,
      status: 400,
      code: V
    },
    { name: 'deposits: amount 2**53', payload: deposit({ amount: 2 ** 53 }), status: 400, code: V },
    { name: 'deposits: amount 1e300', payload: deposit({ amount: 1e300 }), status: 400, code: V },
    { name: 'deposits: amount true', payload: deposit({ amount: true }), status: 400, code: V },
    { name: 'deposits: amount missing', payload: without(deposit({}), 'amount'), status: 400, code: V },
    { name: 'deposits: walletId missing', payload: without(deposit({}), 'walletId'), status: 400, code: V },
    { name: 'deposits: walletId is a number', payload: deposit({ walletId: 7 }), status: 400, code: V },
    { name: 'deposits: walletId empty', payload: deposit({ walletId: '' }), status: 400, code: V },
    {
      name: 'deposits: walletId of 101 characters',
      payload: deposit({ walletId: 'w'.repeat(101) }),
      status: 400,
      code: V
    },
    {
      name: 'deposits: walletId not a UUID',
      payload: deposit({ walletId: 'not-a-uuid' }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'deposits: unknown walletId',
      payload: deposit({ walletId: UNKNOWN_UUID }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'deposits: into the system account',
      payload: deposit({ walletId: f.systemWalletId }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'deposits: reference of 141 characters',
      payload: deposit({ reference: 'r'.repeat(141) }),
      status: 400,
      code: V
    },
    { name: 'deposits: reference is a number', payload: deposit({ reference: 12 }), status: 400, code: V },
    { name: 'deposits: unknown field', payload: deposit({ currency: 'ZAR' }), status: 400, code: V },
    {
      name: 'deposits: balance would pass MAX_SAFE_INTEGER',
      payload: deposit({ amount: Number.MAX_SAFE_INTEGER }),
      status: 422,
      code: 'AMOUNT_TOO_LARGE'
    },
    {
      name: 'deposits: Idempotency-Key missing',
      key: null,
      payload: deposit({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_MISSING'
    },
    {
      name: 'deposits: Idempotency-Key of 256 characters',
      key: 'k'.repeat(256),
      payload: deposit({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    { name: 'deposits: malformed JSON', payload: '{"walletId":', headers: json, status: 400, code: V },
    {
      name: 'deposits: form-encoded body',
      payload: `walletId=${f.walletA}&amount=100`,
      headers: form,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE'
    },
    {
      name: 'deposits: body over 64 KiB',
      payload: deposit({ reference: PADDING }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE'
    },
    {
      name: 'deposits: a user key on an admin route',
      who: 'a',
      payload: deposit({}),
      status: 403,
      code: 'FORBIDDEN'
    }
  ].map((row) => ({ method: 'POST', url: '/v1/deposits', who: 'admin', ...row }) as Row)

  const transfers: Row[] = [
    { name: 'transfers: amount 1.5', payload: transfer({ amount: 1.5 }), status: 400, code: V },
    { name: 'transfers: amount "100"', payload: transfer({ amount: '100' }), status: 400, code: V },
    { name: 'transfers: amount 0', payload: transfer({ amount: 0 }), status: 400, code: V },
    { name: 'transfers: amount -1', payload: transfer({ amount: -1 }), status: 400, code: V },
    { name: 'transfers: amount "NaN"', payload: transfer({ amount: 'NaN' }), status: 400, code: V },
    { name: 'transfers: amount null', payload: transfer({ amount: null }), status: 400, code: V },
    { name: 'transfers: amount 2**53', payload: transfer({ amount: 2 ** 53 }), status: 400, code: V },
    { name: 'transfers: amount 1e300', payload: transfer({ amount: 1e300 }), status: 400, code: V },
    {
      name: 'transfers: amount is an object',
      payload: transfer({ amount: { value: 100 } }),
      status: 400,
      code: V
    },
    { name: 'transfers: currency missing', payload: without(transfer({}), 'currency'), status: 400, code: V },
    {
      name: 'transfers: fromWalletId missing',
      payload: without(transfer({}), 'fromWalletId'),
      status: 400,
      code: V
    },
    {
      name: 'transfers: toWalletId missing',
      payload: without(transfer({}), 'toWalletId'),
      status: 400,
      code: V
    },
    {
      name: 'transfers: toWalletId of 101 characters',
      payload: transfer({ toWalletId: 'w'.repeat(101) }),
      status: 400,
      code: V
    },
    {
      name: 'transfers: reference of 141 characters',
      payload: transfer({ reference: 'r'.repeat(141) }),
      status: 400,
      code: V
    },
    { name: 'transfers: unknown field', payload: transfer({ status: 'completed' }), status: 400, code: V },
    {
      name: 'transfers: NUL in the reference (Postgres cannot store it)',
      payload: transfer({ reference: 'rent\u0000' }),
      status: 400,
      code: V
    },
    {
      name: 'transfers: unsupported currency',
      payload: transfer({ currency: 'EUR' }),
      status: 422,
      code: 'UNSUPPORTED_CURRENCY'
    },
    {
      name: 'transfers: currency of neither wallet',
      payload: transfer({ currency: 'USD' }),
      status: 422,
      code: 'CURRENCY_MISMATCH'
    },
    {
      name: 'transfers: into a wallet of another currency',
      payload: transfer({ toWalletId: f.walletAUsd }),
      status: 422,
      code: 'CURRENCY_MISMATCH'
    },
    {
      name: 'transfers: same wallet on both sides',
      payload: transfer({ toWalletId: f.walletA }),
      status: 422,
      code: 'SAME_WALLET'
    },
    {
      name: 'transfers: more than the balance',
      payload: transfer({ amount: FUNDED + 1 }),
      status: 422,
      code: 'INSUFFICIENT_FUNDS'
    },
    {
      name: 'transfers: from an empty wallet',
      payload: transfer({ fromWalletId: f.walletA2 }),
      status: 422,
      code: 'INSUFFICIENT_FUNDS'
    },
    {
      name: "transfers: from another user's wallet",
      payload: transfer({ fromWalletId: f.walletB, toWalletId: f.walletA }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfers: to an unknown wallet',
      payload: transfer({ toWalletId: UNKNOWN_UUID }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfers: from a wallet id that is not a UUID',
      payload: transfer({ fromWalletId: 'not-a-uuid' }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfers: to a wallet id that is not a UUID',
      payload: transfer({ toWalletId: 'not-a-uuid' }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfers: to the system account',
      payload: transfer({ toWalletId: f.systemWalletId }),
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfers: Idempotency-Key missing',
      key: null,
      payload: transfer({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_MISSING'
    },
    {
      name: 'transfers: Idempotency-Key of 256 characters',
      key: 'k'.repeat(256),
      payload: transfer({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'transfers: Idempotency-Key with a tab',
      key: 'key\tvalue',
      payload: transfer({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    {
      name: 'transfers: X-Idempotency-Key disagreeing with Idempotency-Key',
      headers: { 'x-idempotency-key': 'other-key' },
      payload: transfer({}),
      status: 400,
      code: 'IDEMPOTENCY_KEY_INVALID'
    },
    { name: 'transfers: malformed JSON', payload: '{"amount": 100,}', headers: json, status: 400, code: V },
    {
      name: 'transfers: form-encoded body',
      payload: 'amount=100',
      headers: form,
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE'
    },
    {
      name: 'transfers: body over 64 KiB',
      payload: transfer({ reference: PADDING }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE'
    },
    {
      name: 'transfers: the operator token on a user route',
      who: 'admin',
      payload: transfer({}),
      status: 403,
      code: 'FORBIDDEN'
    },
    { name: 'transfers: no token', who: 'none', payload: transfer({}), status: 401, code: 'UNAUTHORIZED' },
    {
      name: 'transfers: malformed Authorization header',
      who: 'none',
      headers: { authorization: `Basic ${f.a.apiKey}` },
      payload: transfer({}),
      status: 401,
      code: 'UNAUTHORIZED'
    }
  ].map((row) => ({ method: 'POST', url: '/v1/transfers', who: 'a', ...row }) as Row)

  const reads: Row[] = [
    { name: 'wallet: id not a UUID', url: '/v1/wallets/not-a-uuid', status: 404, code: 'WALLET_NOT_FOUND' },
    { name: 'wallet: id is a blank', url: '/v1/wallets/%20', status: 404, code: 'WALLET_NOT_FOUND' },
    { name: 'wallet: empty id', url: '/v1/wallets/', status: 404, code: 'WALLET_NOT_FOUND' },
    {
      name: 'wallet: id of 100 characters',
      url: `/v1/wallets/${'w'.repeat(100)}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'wallet: id of 1000 characters',
      url: `/v1/wallets/${'w'.repeat(1000)}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'wallet: id of 4000 characters (the router refuses it)',
      url: `/v1/wallets/${'w'.repeat(4000)}`,
      status: 414,
      code: 'URI_TOO_LONG'
    },
    {
      name: 'wallet: malformed percent-encoding (the router refuses it)',
      url: '/v1/wallets/%E0%A4%A',
      status: 400,
      code: V
    },
    {
      name: 'transfer: id of 1000 characters',
      url: `/v1/transfers/${'t'.repeat(1000)}`,
      status: 404,
      code: 'TRANSFER_NOT_FOUND'
    },
    {
      name: 'history: wallet id of 1000 characters',
      url: `/v1/wallets/${'w'.repeat(1000)}/transactions`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'catalog: provider of 65 characters',
      url: `/v1/catalog/${'p'.repeat(65)}`,
      status: 404,
      code: 'NOT_FOUND'
    },
    {
      name: 'wallet: SQL in the id',
      url: `/v1/wallets/${encodeURIComponent("1' OR '1'='1")}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'wallet: unknown UUID',
      url: `/v1/wallets/${UNKNOWN_UUID}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: "wallet: another user's",
      url: `/v1/wallets/${f.walletB}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'wallet: the system account',
      url: `/v1/wallets/${f.systemWalletId}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'wallet: no token',
      who: 'none',
      url: `/v1/wallets/${f.walletA}`,
      status: 401,
      code: 'UNAUTHORIZED'
    },
    { name: 'history: limit=0', url: `/v1/wallets/${f.walletA}/transactions?limit=0`, status: 400, code: V },
    {
      name: 'history: limit=101',
      url: `/v1/wallets/${f.walletA}/transactions?limit=101`,
      status: 400,
      code: V
    },
    {
      name: 'history: limit=abc',
      url: `/v1/wallets/${f.walletA}/transactions?limit=abc`,
      status: 400,
      code: V
    },
    {
      name: 'history: limit=1.5',
      url: `/v1/wallets/${f.walletA}/transactions?limit=1.5`,
      status: 400,
      code: V
    },
    {
      name: 'history: limit=-1',
      url: `/v1/wallets/${f.walletA}/transactions?limit=-1`,
      status: 400,
      code: V
    },
    {
      name: 'history: cursor not issued by the service',
      url: `/v1/wallets/${f.walletA}/transactions?cursor=garbage`,
      status: 400,
      code: V
    },
    {
      name: 'history: cursor with a too-large position',
      url: `/v1/wallets/${f.walletA}/transactions?cursor=${Buffer.from(`s${'9'.repeat(16)}`).toString('base64url')}`,
      status: 400,
      code: V
    },
    {
      name: 'history: empty cursor',
      url: `/v1/wallets/${f.walletA}/transactions?cursor=`,
      status: 400,
      code: V
    },
    {
      name: 'history: cursor of 201 characters',
      url: `/v1/wallets/${f.walletA}/transactions?cursor=${'c'.repeat(201)}`,
      status: 400,
      code: V
    },
    {
      name: 'history: unknown query parameter',
      url: `/v1/wallets/${f.walletA}/transactions?offset=10`,
      status: 400,
      code: V
    },
    {
      name: "history: another user's wallet",
      url: `/v1/wallets/${f.walletB}/transactions`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: "history: another user's wallet, with a valid cursor",
      url: `/v1/wallets/${f.walletB}/transactions?cursor=${f.cursor}`,
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'history: id not a UUID',
      url: '/v1/wallets/nope/transactions',
      status: 404,
      code: 'WALLET_NOT_FOUND'
    },
    {
      name: 'transfer: id not a UUID',
      url: '/v1/transfers/not-a-uuid',
      status: 404,
      code: 'TRANSFER_NOT_FOUND'
    },
    { name: 'transfer: NUL as the id', url: '/v1/transfers/%00', status: 404, code: 'TRANSFER_NOT_FOUND' },
    {
      name: 'transfer: unknown UUID',
      url: `/v1/transfers/${UNKNOWN_UUID}`,
      status: 404,
      code: 'TRANSFER_NOT_FOUND'
    },
    {
      name: 'transfer: a wallet id instead of a transfer id',
      url: `/v1/transfers/${f.walletA}`,
      status: 404,
      code: 'TRANSFER_NOT_FOUND'
    },
    { name: 'transfer: empty id', url: '/v1/transfers/', status: 404, code: 'TRANSFER_NOT_FOUND' },
    {
      name: "transfer: A's and B's, asked by a third user",
      who: 'third',
      url: `/v1/transfers/${f.transferId}`,
      status: 404,
      code: 'TRANSFER_NOT_FOUND'
    },
    { name: 'unknown route', url: '/v1/nothing-here', status: 404, code: 'NOT_FOUND' },
    {
      name: 'unknown method on a known path',
      method: 'DELETE',
      url: `/v1/wallets/${f.walletA}`,
      status: 404,
      code: 'NOT_FOUND'
    }
  ].map((row) => ({ method: 'GET', who: 'a', ...row }) as Row)

  return [...users, ...wallets, ...deposits, ...transfers, ...reads]
}

async function rowsOf(
  app: FastifyInstance,
  query: ReturnType<typeof sql>
): Promise<Array<Record<string, unknown>>> {
  const result = await app.database.db.execute(query)
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<
    Record<string, unknown>
  >
}

/** Everything a refused request must leave alone. */
async function snapshot(app: FastifyInstance) {
  const [counts] = await rowsOf(
    app,
    sql`SELECT
    (SELECT count(*)::int FROM users) AS users,
    (SELECT count(*)::int FROM wallets) AS wallets,
    (SELECT count(*)::int FROM deposits) AS deposits,
    (SELECT count(*)::int FROM transfers) AS transfers,
    (SELECT count(*)::int FROM journal_entries) AS journal_entries`
  )
  const balances = await rowsOf(
    app,
    sql`SELECT id, balance::text AS balance, lock_fence::text AS fence FROM wallets ORDER BY id`
  )
  return { counts, balances }
}

// One instance for the whole file: every test makes its own users and wallets and compares
// the database with itself before and after.
const { prefix, url } = redisPrefix(t)
const app = await startApp(t, {
  DATABASE_URL: await freshDatabase(t),
  REDIS_URL: url,
  REDIS_KEY_PREFIX: prefix
})
const api = new Api(app)

t.test('malformed requests are refused with the contract status and code, and change nothing', async (t) => {
  const a = await api.createUser('Amahle')
  const b = await api.createUser('Bongani')
  const walletA = (await api.createWallet(a)).id
  const walletA2 = (await api.createWallet(a)).id
  const walletAUsd = (await api.createWallet(a, 'USD')).id
  const walletB = (await api.createWallet(b)).id
  t.equal((await api.deposit(walletA, FUNDED)).statusCode, 201)
  t.equal((await api.deposit(walletB, FUNDED)).statusCode, 201)
  const moved = await api.transfer(b, { fromWalletId: walletB, toWalletId: walletA, amount: 1 })
  t.equal(moved.statusCode, 201)
  await api.transfer(a, { fromWalletId: walletA, toWalletId: walletB, amount: 1 })
  const history = await api.request({
    method: 'GET',
    url: `/v1/wallets/${walletA}/transactions?limit=1`,
    token: a.apiKey
  })
  const [system] = await rowsOf(app, sql`SELECT id FROM wallets WHERE kind = 'system' AND currency = 'ZAR'`)
  const fixture: Fixture = {
    a,
    third: await api.createUser('Third'),
    walletA,
    walletA2,
    walletAUsd,
    walletB,
    transferId: moved.json().id,
    systemWalletId: String(system?.id),
    cursor: history.json().nextCursor
  }
  t.type(fixture.cursor, 'string', 'a real cursor to misuse')
  const tokens: Record<Who, string | undefined> = {
    admin: ADMIN_TOKEN,
    a: a.apiKey,
    third: fixture.third.apiKey,
    none: undefined,
    bogus: 'mk_not-a-real-key'
  }

  const table = rows(fixture)
  t.ok(table.length >= 50, `${table.length} rows`)
  const before = await snapshot(app)

  for (const row of table) {
    const key =
      row.key === undefined ? (row.method === 'POST' ? randomUUID() : undefined) : (row.key ?? undefined)
    const response = await api.request({
      method: row.method,
      url: row.url,
      ...(tokens[row.who] === undefined ? {} : { token: tokens[row.who] }),
      ...(key === undefined ? {} : { key }),
      ...(row.payload === undefined ? {} : { payload: row.payload as string | object }),
      ...(row.headers === undefined ? {} : { headers: row.headers })
    })
    t.equal(response.statusCode, row.status, `${row.name}: status ${row.status}`)
    t.ok(response.statusCode < 500, `${row.name}: not a 5xx`)
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${row.name}: problem+json`)
    t.match(
      response.json(),
      { type: String, title: String, status: row.status, detail: String, code: row.code },
      `${row.name}: code ${row.code}`
    )
    t.notMatch(
      response.body,
      /\bat .+:\d+:\d+|SELECT |INSERT |UPDATE |api_key_hash|mk_/,
      `${row.name}: no internals or secrets`
    )
    t.same(await snapshot(app), before, `${row.name}: nothing changed`)
  }

  await checkLedger(t, app.database.db)
})

t.test('a non-JSON content type is refused without side effects', async (t) => {
  const a = await api.createUser()
  const b = await api.createUser()
  const from = await api.createWallet(a)
  const to = await api.createWallet(b)
  t.equal((await api.deposit(from.id, 500)).statusCode, 201)
  const before = await snapshot(app)
  const requests = [
    { url: '/v1/users', token: ADMIN_TOKEN, payload: JSON.stringify({ name: 'Plain' }) },
    { url: '/v1/wallets', token: a.apiKey, key: randomUUID(), payload: JSON.stringify({ currency: 'ZAR' }) },
    {
      url: '/v1/deposits',
      token: ADMIN_TOKEN,
      key: randomUUID(),
      payload: JSON.stringify({ walletId: from.id, amount: 100 })
    },
    {
      url: '/v1/transfers',
      token: a.apiKey,
      key: randomUUID(),
      payload: JSON.stringify({ fromWalletId: from.id, toWalletId: to.id, amount: 100, currency: 'ZAR' })
    }
  ]
  for (const request of requests) {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const response = await api.request({ method: 'POST', headers: { 'content-type': type }, ...request })
      t.equal(response.statusCode, 415, `${type} on ${request.url}: 415`)
      t.equal(response.json().code, 'UNSUPPORTED_MEDIA_TYPE')
      t.match(
        response.headers['content-type'],
        /^application\/problem\+json/,
        `${type} on ${request.url}: problem+json`
      )
    }
  }
  t.same(await snapshot(app), before, 'nothing changed')
  t.equal(await api.balance(a, from.id), 500)
  await checkLedger(t, app.database.db)
})

t.test(
  'a refused money request releases its key: the corrected retry with the same key succeeds',
  async (t) => {
    const a = await api.createUser()
    const b = await api.createUser()
    const from = await api.createWallet(a)
    const to = await api.createWallet(b)
    const key = randomUUID()

    const refused = await api.transfer(a, { fromWalletId: from.id, toWalletId: to.id, amount: 700 }, key)
    t.equal(refused.statusCode, 422)
    t.equal(refused.json().code, 'INSUFFICIENT_FUNDS')
    t.equal((await api.deposit(from.id, 1000)).statusCode, 201)
    const retried = await api.transfer(a, { fromWalletId: from.id, toWalletId: to.id, amount: 700 }, key)
    t.equal(retried.statusCode, 201, 'the same key runs once the funds are there')
    t.equal(await api.balance(a, from.id), 300)
    t.equal(await api.balance(b, to.id), 700)
    await checkLedger(t, app.database.db)
  }
)
