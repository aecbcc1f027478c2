// What is measured: each variant (a server under test) under each scenario (a traffic shape).
import type { Product, TrafficPattern } from './load-job.js'

export type VariantId = 'ceiling' | 'redis-off' | 'all-layers'
export type ScenarioId = 'uniform' | 'hot-payer' | 'hot-payee' | 'replay' | 'purchase'

export interface Variant {
  id: VariantId
  title: string
  /** For ratios and checks. */
  short: string
  /** Whether it is the payments service (dist/server.js); the ceiling is bench/ceiling.ts. */
  service: boolean
  /** Whether the service gets REDIS_URL. */
  redis: boolean
}

export type Scenario = {
  id: ScenarioId
  title: string
  /** What one operation is, for the report's per-operation figures. */
  unit: 'transfer' | 'replay' | 'purchase'
} & (
  | { kind: 'transfers'; pattern: TrafficPattern }
  | { kind: 'replays' }
  /** Every payer buys `product`. */
  | { kind: 'purchases'; product: Product }
)

export const VARIANTS: readonly Variant[] = [
  { id: 'ceiling', title: 'ceiling (Fastify + postgres.js)', short: 'ceiling', service: false, redis: false },
  { id: 'redis-off', title: 'service, Redis layers off', short: 'Redis off', service: true, redis: false },
  { id: 'all-layers', title: 'service, all layers (Redis)', short: 'all layers', service: true, redis: true }
]

export const SCENARIOS: readonly Scenario[] = [
  { id: 'uniform', title: 'uniform', unit: 'transfer', kind: 'transfers', pattern: 'uniform' },
  { id: 'hot-payer', title: 'hot payer', unit: 'transfer', kind: 'transfers', pattern: 'hot-payer' },
  { id: 'hot-payee', title: 'hot payee', unit: 'transfer', kind: 'transfers', pattern: 'hot-payee' },
  { id: 'replay', title: 'idempotent replay', unit: 'replay', kind: 'replays' },
  // The in-process sandbox provider (no PROVIDER_URL) fulfils an ordinary recipient at once.
  // Every purchase credits the one settlement account of its provider and currency: the
  // hot-payee shape, with the provider call on top.
  {
    id: 'purchase',
    title: 'purchase (sandbox; hot payee: one settlement account)',
    unit: 'purchase',
    kind: 'purchases',
    product: { provider: 'flash', productId: 'flash-vodacom-airtime-10', recipient: '+27821234567' }
  }
]

/**
 * Whether `variant` runs `scenario`: the ceiling is transfers only (no idempotency records to
 * replay, no purchases).
 */
export function runs(variant: Variant, scenario: Scenario): boolean {
  return scenario.kind === 'transfers' || variant.service
}
