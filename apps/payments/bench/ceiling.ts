// The ceiling baseline: the least a correct transfer can cost on this schema. One Fastify route,
// postgres.js with the service's pool size, a bearer check that is a lookup in an in-memory map,
// and the textbook transaction — lock both wallet rows in id order, insert the transfer, debit,
// credit, two journal lines, commit: seven statements, seven round trips. No plugins, no Redis,
// no idempotency cache (the UNIQUE (principal, idempotency_key) still holds).
//
// Env: PORT, HOST, DATABASE_URL, LOG_LEVEL. The first stdin line is a JSON object mapping each
// user's API key to the user's id; the process listens once it has read it.
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import Fastify from 'fastify'
import postgres from 'postgres'

interface TransferBody {
  fromWalletId: string
  toWalletId: string
  amount: number
  currency: string
  reference?: string
}
interface WalletRow {
  id: string
  owner_id: string | null
  currency: string
  balance: string
}
type Outcome = { status: 201; transfer: Record<string, unknown> } | { status: 404 | 422; code: string }

const databaseUrl = process.env.DATABASE_URL
if (databaseUrl === undefined) throw new Error('ceiling: DATABASE_URL is required')
let keyLine = '{}'
for await (const line of createInterface({ input: process.stdin })) {
  keyLine = line
  break
}
/** API key → user id. */
const users = new Map(Object.entries(JSON.parse(keyLine) as Record<string, string>))

const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} })
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' }, bodyLimit: 64 * 1024 })

app.post<{ Body: TransferBody }>(
  '/v1/transfers',
  {
    schema: {
      body: {
        type: 'object',
        required: ['fromWalletId', 'toWalletId', 'amount', 'currency'],
        additionalProperties: false,
        properties: {
          fromWalletId: { type: 'string', format: 'uuid' },
          toWalletId: { type: 'string', format: 'uuid' },
          amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          currency: { type: 'string', pattern: '^[A-Z]{3}$' },
          reference: { type: 'string', maxLength: 140 }
        }
      }
    }
  },
  async (request, reply) => {
    const userId = users.get((request.headers.authorization ?? '').replace(/^Bearer /, ''))
    if (userId === undefined) return reply.code(401).send({ code: 'UNAUTHORIZED' })
    const idempotencyKey = request.headers['idempotency-key']
    if (typeof idempotencyKey !== 'string' || idempotencyKey === '')
      return reply.code(400).send({ code: 'IDEMPOTENCY_KEY_MISSING' })
    const { fromWalletId, toWalletId, amount, currency } = request.body
    const reference = request.body.reference ?? null
    if (fromWalletId === toWalletId) return reply.code(422).send({ code: 'SAME_WALLET' })
    const fingerprint = createHash('sha256').update(JSON.stringify(request.body)).digest('hex')

    const outcome = await sql.begin(async (tx): Promise<Outcome> => {
      const rows = await tx<WalletRow[]>`
      SELECT id, owner_id, currency, balance FROM wallets
      WHERE id IN (${fromWalletId}, ${toWalletId}) ORDER BY id FOR UPDATE`
      const from = rows.find((row) => row.id === fromWalletId)
      const to = rows.find((row) => row.id === toWalletId)
      if (from === undefined || to === undefined || from.owner_id !== userId)
        return { status: 404, code: 'WALLET_NOT_FOUND' }
      if (from.currency !== currency || to.currency !== currency)
        return { status: 422, code: 'CURRENCY_MISMATCH' }
      if (Number(from.balance) < amount) return { status: 422, code: 'INSUFFICIENT_FUNDS' }
      const [transfer] = await tx<Array<{ id: string; created_at: Date }>>`
      INSERT INTO transfers (from_wallet_id, to_wallet_id, amount, currency, reference, principal, idempotency_key, request_fingerprint)
      VALUES (${fromWalletId}, ${toWalletId}, ${amount}, ${currency}, ${reference}, ${userId}, ${idempotencyKey}, ${fingerprint})
      RETURNING id, created_at`
      if (transfer === undefined) throw new Error('INSERT … RETURNING returned no row')
      await tx`UPDATE wallets SET balance = balance - ${amount} WHERE id = ${fromWalletId}`
      await tx`UPDATE wallets SET balance = balance + ${amount} WHERE id = ${toWalletId}`
      await tx`
      INSERT INTO journal_entries (wallet_id, kind, direction, amount, balance_after, transfer_id, counterparty_wallet_id, reference)
      VALUES (${fromWalletId}, 'transfer', 'debit', ${amount}, ${Number(from.balance) - amount}, ${transfer.id}, ${toWalletId}, ${reference}),
             (${toWalletId}, 'transfer', 'credit', ${amount}, ${Number(to.balance) + amount}, ${transfer.id}, ${fromWalletId}, ${reference})`
      return {
        status: 201,
        transfer: {
          id: transfer.id,
          fromWalletId,
          toWalletId,
          amount,
          currency,
          reference,
          status: 'completed',
          createdAt: transfer.created_at.toISOString()
        }
      }
    })
    if (outcome.status !== 201) return reply.code(outcome.status).send({ code: outcome.code })
    return reply
      .code(201)
      .header('location', `/v1/transfers/${String(outcome.transfer.id)}`)
      .send(outcome.transfer)
  }
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app
      .close()
      .then(() => sql.end({ timeout: 5 }))
      .then(
        () => process.exit(0),
        () => process.exit(1)
      )
  })
}
await app.listen({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
