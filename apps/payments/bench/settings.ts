// The benchmark's knobs, from the environment, validated before anything starts.
import { SCENARIOS, VARIANTS, type Scenario, type Variant } from './scenarios.js'

export interface Settings {
  /** Seconds of load per measurement. */
  durationS: number
  /** Measurements of every variant × scenario, interleaved; the report shows medians. */
  rounds: number
  /** autocannon connections (requests in flight). */
  connections: number
  variants: Variant[]
  scenarios: Scenario[]
  /** How this run was started, for the report. */
  command: string
}

/** Payer wallets per variant. */
export const PAYERS = 200
/** LOCK_WAIT_MS of the service under test. */
export const LOCK_WAIT_MS = 2000
/** How far past LOCK_WAIT_MS the slowest hot-payer answer may be. */
export const LATENCY_MARGIN_MS = 1000
/** Pool size of the service (its default) and of the ceiling. */
export const POOL_SIZE = 10

const KNOBS = ['BENCH_DURATION', 'BENCH_ROUNDS', 'BENCH_CONNECTIONS', 'BENCH_ONLY'] as const

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const problems: string[] = []
  const number = (name: string, fallback: number, integer: boolean): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!(value > 0) || (integer && !Number.isInteger(value))) {
      problems.push(`${name} must be a positive ${integer ? 'whole ' : ''}number, got "${raw}"`)
      return fallback
    }
    return value
  }

  // BENCH_ONLY: comma-separated scenario and/or variant ids; each kind filters only itself.
  const only = (env.BENCH_ONLY ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '')
  const known = [...SCENARIOS.map((s) => s.id), ...VARIANTS.map((v) => v.id)] as string[]
  for (const token of only)
    if (!known.includes(token)) problems.push(`BENCH_ONLY: unknown "${token}" (known: ${known.join(', ')})`)
  const pick = <T extends { id: string }>(all: readonly T[]): T[] => {
    const chosen = all.filter((item) => only.includes(item.id))
    return chosen.length === 0 ? [...all] : chosen
  }

  const settings: Settings = {
    durationS: number('BENCH_DURATION', 5, false),
    rounds: number('BENCH_ROUNDS', 3, true),
    connections: number('BENCH_CONNECTIONS', 16, true),
    variants: pick(VARIANTS),
    scenarios: pick(SCENARIOS),
    command: [
      ...KNOBS.filter((name) => env[name] !== undefined && env[name] !== '').map(
        (name) => `${name}=${env[name]}`
      ),
      'pnpm bench'
    ].join(' ')
  }
  if (problems.length > 0)
    throw new Error(`Invalid benchmark settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  return settings
}
