import { Type, type TSchema } from 'typebox'

// Request and response schemas of the contract. They validate input (unknown properties
// are rejected), serialize output and feed the OpenAPI document at /docs.

export const Id = Type.String({ minLength: 1, maxLength: 100, description: 'An opaque id' })
export const Amount = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: 'Minor units (cents)'
})
export const Currency = Type.String({
  minLength: 1,
  maxLength: 16,
  description: 'An ISO 4217 code from SUPPORTED_CURRENCIES',
  examples: ['ZAR']
})
/** Text Postgres will store: it refuses NUL, so NUL is a 400 here rather than a 500 there. */
export const STORABLE_TEXT = '^[^\\u0000]*$'
export const Reference = Type.String({
  maxLength: 140,
  pattern: STORABLE_TEXT,
  description: 'Free text, stored and echoed'
})
const Timestamp = Type.String({ format: 'date-time' })
const NullableReference = Type.Union([Reference, Type.Null()])

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Machine-readable, UPPER_SNAKE_CASE' }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(
      Type.String({ description: "The request's id (also in X-Request-Id), as in the service log" })
    )
  },
  { additionalProperties: true, description: 'RFC 9457 problem document' }
)

export const User = Type.Object({
  id: Id,
  name: Type.String(),
  apiKey: Type.String({ description: 'Shown once; store it' }),
  createdAt: Timestamp
})

export const Wallet = Type.Object({
  id: Id,
  ownerId: Id,
  currency: Type.String(),
  balance: Type.Integer({ minimum: 0 }),
  createdAt: Timestamp
})

export const Deposit = Type.Object({
  id: Id,
  walletId: Id,
  amount: Amount,
  currency: Type.String(),
  reference: NullableReference,
  createdAt: Timestamp
})

export const Transfer = Type.Object({
  id: Id,
  fromWalletId: Id,
  toWalletId: Id,
  amount: Amount,
  currency: Type.String(),
  reference: NullableReference,
  status: Type.Literal('completed'),
  createdAt: Timestamp
})

export const Entry = Type.Object({
  id: Id,
  walletId: Id,
  kind: Type.Union([
    Type.Literal('transfer'),
    Type.Literal('deposit'),
    Type.Literal('purchase'),
    Type.Literal('refund')
  ]),
  direction: Type.Union([Type.Literal('debit'), Type.Literal('credit')]),
  amount: Amount,
  balanceAfter: Type.Integer(),
  transferId: Type.Union([Id, Type.Null()]),
  depositId: Type.Union([Id, Type.Null()]),
  purchaseId: Type.Union([Id, Type.Null()], { description: 'Set on purchase and refund entries' }),
  counterpartyWalletId: Type.Union([Id, Type.Null()]),
  reference: NullableReference,
  createdAt: Timestamp
})

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const Fulfilment = Type.Object(
  {
    pin: Type.Optional(Type.String()),
    serial: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
    units: Type.Optional(Type.String())
  },
  { description: 'What the provider delivered; at least one field is set' }
)

export const Purchase = Type.Object({
  id: Id,
  walletId: Id,
  provider: Type.Union([Type.Literal('flash'), Type.Literal('easypay')]),
  productId: Type.String(),
  catalogVersion: Type.String({ description: 'The catalog version the product was priced at' }),
  amount: Amount,
  currency: Type.String(),
  recipient: Nullable(Type.String()),
  reference: NullableReference,
  status: Type.Union([Type.Literal('pending'), Type.Literal('completed'), Type.Literal('failed')]),
  fulfilment: Nullable(Fulfilment),
  failureCode: Nullable(Type.String()),
  createdAt: Timestamp,
  settledAt: Nullable(Timestamp)
})

/** Path ids are not length-checked: an id that is not one of ours is simply not found. */
export const IdParams = Type.Object({ id: Type.String({ description: 'An opaque id' }) })

const ProblemResponse = {
  description: 'An RFC 9457 problem document',
  content: { 'application/problem+json': { schema: Problem } }
}

/** Adds the error responses a route may give, as application/problem+json, to its schema. */
export function withProblems<T extends Record<number, TSchema>>(responses: T, ...statuses: number[]): T {
  return Object.assign({}, responses, Object.fromEntries(statuses.map((status) => [status, ProblemResponse])))
}

export const IdempotencyKeyHeader = Type.Object(
  {
    'idempotency-key': Type.Optional(
      Type.String({
        description: 'draft-ietf-httpapi-idempotency-key-header: "key" or key, 1–255 printable ASCII'
      })
    )
  },
  { additionalProperties: true }
)
