// What is measured: each variant (a server under test) under each scenario (a traffic shape).
import type { TrafficPattern } from './load-job.js'

export type VariantId = 'ceiling' | 'redis-off' | 'all-layers'
export type ScenarioId = 'uniform' | 'hot-payer' | 'hot-payee' | 'replay'

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

export interface Scenario {
  id: ScenarioId
  title: string
  /** The traffic of new transfers; absent for replays. */
  pattern?: TrafficPattern
}

export const VARIANTS: readonly Variant[] = [
  { id: 'ceiling', title: 'ceiling (Fastify + postgres.js)', short: 'ceiling', service: false, redis: false },
  { id: 'redis-off', title: 'service, Redis layers off', short: 'Redis off', service: true, redis: false },
  { id: 'all-layers', title: 'service, all layers (Redis)', short: 'all layers', service: true, redis: true }
]

export const SCENARIOS: readonly Scenario[] = [
  { id: 'uniform', title: 'uniform', pattern: 'uniform' },
  { id: 'hot-payer', title: 'hot payer', pattern: 'hot-payer' },
  { id: 'hot-payee', title: 'hot payee', pattern: 'hot-payee' },
  { id: 'replay', title: 'idempotent replay' }
]

/** Whether `variant` runs `scenario`: the ceiling keeps no idempotency records to replay. */
export function runs(variant: Variant, scenario: Scenario): boolean {
  return scenario.id !== 'replay' || variant.service
}
