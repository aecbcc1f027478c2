import { Type, type TSchema } from 'typebox'
import { Value } from 'typebox/value'
import type { FulfilmentRequest, ProviderOutcome, ProviderStatus } from './provider-port.js'

// The JSON that the sandbox server and the HTTP provider client exchange (README, "Provider
// protocol"). Both ends check what they receive against these schemas: a provider answer of
// another shape is an unknown outcome, never a crash and never a guess.

const Text = Type.String({ minLength: 1, maxLength: 200 })

export const FulfilmentRequestSchema = Type.Object({
  purchaseId: Text,
  provider: Type.Union([Type.Literal('flash'), Type.Literal('easypay')]),
  productId: Text,
  amount: Type.Integer({ minimum: 1 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  recipient: Type.Union([Text, Type.Null()])
})

/** At least one field, and no other. */
export const FulfilmentSchema = Type.Object(
  {
    pin: Type.Optional(Text),
    serial: Type.Optional(Text),
    token: Type.Optional(Text),
    units: Type.Optional(Text)
  },
  { additionalProperties: false, minProperties: 1 }
)

const Fulfilled = Type.Object({ status: Type.Literal('fulfilled'), fulfilment: FulfilmentSchema })
const Failed = Type.Object({ status: Type.Literal('failed'), failureCode: Text })

export const ProviderOutcomeSchema = Type.Union([Fulfilled, Failed])

export const ProviderStatusSchema = Type.Union([
  Fulfilled,
  Failed,
  Type.Object({ status: Type.Literal('processing') }),
  Type.Object({ status: Type.Literal('not-found') })
])

const conforms =
  <T>(schema: TSchema) =>
  (value: unknown): value is T =>
    Value.Check(schema, value)

export const isFulfilmentRequest = conforms<FulfilmentRequest>(FulfilmentRequestSchema)
export const isProviderOutcome = conforms<ProviderOutcome>(ProviderOutcomeSchema)
export const isProviderStatus = conforms<ProviderStatus>(ProviderStatusSchema)
