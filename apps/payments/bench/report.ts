// The figures of a run: medians over rounds per variant × scenario, the ratios between them,
// the pass/fail checks, and the markdown that is printed (and pasted into the README).
import type { MachineFacts } from './machine.js'
import type { Measurement } from './measure.js'
import { totalCalls } from './redis-commands.js'
import { type Scenario, type ScenarioId, type Variant, type VariantId } from './scenarios.js'
import { LATENCY_MARGIN_MS, LOCK_WAIT_MS, type Settings } from './settings.js'

export interface Row {
  variant: Variant
  scenario: Scenario
  rounds: number
  /** Transfers (or replays) answered 2xx per second. */
  rate: number
  p50: number
  p99: number
  /** Slowest answer of all rounds. */
  max: number
  /** Non-2xx answers of all rounds, by status. */
  refused: Map<string, number>
  /** 202 answers of all rounds: purchases left to the settler (no other route answers 202). */
  pending: number
  /** Requests of all rounds that got no answer (connection errors, timeouts). */
  errors: number
  cpuMsPer: number | undefined
  statementsPer: number | undefined
  roundTripsPer: number | undefined
  redisPer: number | undefined
  /** Redis calls per transfer by command, over all rounds (undefined without Redis). */
  redisPerCommand: Record<string, number> | undefined
  replayMismatches: number
  replayMismatchSamples: string[]
  ledger: string[]
}

export interface Machine extends MachineFacts {
  loadBefore: string
  loadAfter: string
  date: string
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Median over rounds of a per-transfer figure; undefined when it was not measured or nothing completed. */
function medianPer(
  measurements: Measurement[],
  value: (m: Measurement) => number | undefined
): number | undefined {
  const ratios = measurements.flatMap((m) => {
    const v = value(m)
    return v === undefined || m.completed <= 0 ? [] : [v / m.completed]
  })
  return ratios.length === 0 ? undefined : median(ratios)
}

function perCommand(measurements: Measurement[]): Record<string, number> | undefined {
  const completed = measurements.reduce((sum, m) => sum + m.completed, 0)
  if (completed <= 0 || measurements.some((m) => m.redisCommands === undefined)) return undefined
  const calls: Record<string, number> = {}
  for (const m of measurements) {
    for (const [command, n] of Object.entries(m.redisCommands ?? {}))
      calls[command] = (calls[command] ?? 0) + n
  }
  return Object.fromEntries(Object.entries(calls).map(([command, n]) => [command, n / completed]))
}

export function summarize(variant: Variant, scenario: Scenario, measurements: Measurement[]): Row {
  const refused = new Map<string, number>()
  for (const m of measurements) {
    for (const [status, count] of Object.entries(m.load.statuses)) {
      if (!status.startsWith('2')) refused.set(status, (refused.get(status) ?? 0) + count)
    }
  }
  return {
    variant,
    scenario,
    rounds: measurements.length,
    rate: median(measurements.map((m) => m.load.ok / m.load.durationS)),
    p50: median(measurements.map((m) => m.load.latencyMs.p50)),
    p99: median(measurements.map((m) => m.load.latencyMs.p99)),
    max: Math.max(...measurements.map((m) => m.load.latencyMs.max)),
    refused,
    pending: measurements.reduce((sum, m) => sum + (m.load.statuses['202'] ?? 0), 0),
    errors: measurements.reduce((sum, m) => sum + m.load.errors, 0),
    cpuMsPer: medianPer(measurements, (m) => m.cpuMs),
    statementsPer: medianPer(measurements, (m) => m.pg.statements),
    roundTripsPer: medianPer(measurements, (m) => m.pg.roundTrips),
    redisPer: medianPer(measurements, (m) =>
      m.redisCommands === undefined ? undefined : totalCalls(m.redisCommands)
    ),
    redisPerCommand: perCommand(measurements),
    replayMismatches: measurements.reduce((sum, m) => sum + m.load.replayMismatches, 0),
    replayMismatchSamples: measurements.flatMap((m) => m.load.replayMismatchSamples).slice(0, 3),
    ledger: [...new Set(measurements.flatMap((m) => m.ledger))]
  }
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '—' : value.toFixed(digits)
const rate = (value: number) => value.toFixed(value < 10 ? 1 : 0)
const times = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`

function refusedText(row: Row): string {
  const parts = [...row.refused]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${count}× ${status}`)
  if (row.errors > 0) parts.push(`${row.errors} no answer`)
  return parts.length === 0 ? '0' : parts.join(', ')
}

export interface Verdict {
  /** Markdown lines of the checks table. */
  lines: string[]
  failures: string[]
}

/**
 * The checks a run must pass: a sound ledger, a bounded hot-payer tail, no 5xx, exact replays,
 * every purchase completed in its request.
 */
export function verdict(rows: Row[], variants: Variant[]): Verdict {
  const failures: string[] = []
  const of = (variant: Variant, scenario: ScenarioId) =>
    rows.find((r) => r.variant.id === variant.id && r.scenario.id === scenario)
  const cells = (check: (variant: Variant) => { text: string; failure?: string }) =>
    variants.map((variant) => {
      const { text, failure } = check(variant)
      if (failure !== undefined) failures.push(`${variant.id}: ${failure}`)
      return text
    })
  const limit = LOCK_WAIT_MS + LATENCY_MARGIN_MS
  const lines = [
    `| check | ${variants.map((v) => v.short).join(' | ')} |`,
    `| --- | ${variants.map(() => ':---:').join(' | ')} |`,
    `| ledger invariants after every measurement | ${cells((variant) => {
      const broken = rows.filter((r) => r.variant.id === variant.id).flatMap((r) => r.ledger)
      return broken.length === 0
        ? { text: '✓' }
        : { text: '✗ broken', failure: `ledger broken: ${broken.join('; ')}` }
    }).join(' | ')} |`,
    `| no 5xx in any scenario | ${cells((variant) => {
      const fivexx = rows
        .filter((r) => r.variant.id === variant.id)
        .reduce(
          (sum, r) => sum + [...r.refused].filter(([s]) => s.startsWith('5')).reduce((n, [, c]) => n + c, 0),
          0
        )
      return fivexx === 0
        ? { text: '✓' }
        : { text: `✗ ${fivexx}× 5xx`, failure: `${fivexx} answers with a 5xx status` }
    }).join(' | ')} |`,
    `| hot payer: slowest answer ≤ LOCK_WAIT_MS + ${LATENCY_MARGIN_MS} ms = ${limit} ms | ${cells(
      (variant) => {
        const row = of(variant, 'hot-payer')
        if (row === undefined) return { text: '—' }
        if (!variant.service) return { text: `${row.max.toFixed(0)} ms (no lock wait)` }
        return row.max <= limit
          ? { text: `✓ ${row.max.toFixed(0)} ms` }
          : {
              text: `✗ ${row.max.toFixed(0)} ms`,
              failure: `hot payer's slowest answer took ${row.max.toFixed(0)} ms (limit ${limit} ms)`
            }
      }
    ).join(' | ')} |`,
    `| replays: every answer the stored 201 with \`Idempotent-Replayed: true\` | ${cells((variant) => {
      const row = of(variant, 'replay')
      if (row === undefined) return { text: '—' }
      return row.replayMismatches === 0
        ? { text: '✓' }
        : {
            text: `✗ ${row.replayMismatches} not`,
            failure: `${row.replayMismatches} replays were not the stored answer, e.g. ${row.replayMismatchSamples.join(' / ')}`
          }
    }).join(' | ')} |`,
    `| purchases: every one completed in its request (no 202 pending) | ${cells((variant) => {
      const pending = of(variant, 'purchase')?.pending
      if (pending === undefined) return { text: '—' }
      return pending === 0
        ? { text: '✓' }
        : { text: `✗ ${pending}× 202`, failure: `${pending} purchases were answered 202 pending` }
    }).join(' | ')} |`,
    // A target, not a pass/fail check: reported, never failing the run.
    `| replays: PG round trips per replay (target 0) | ${cells((variant) => {
      const roundTrips = of(variant, 'replay')?.roundTripsPer
      if (roundTrips === undefined) return { text: '—' }
      return { text: roundTrips < 0.005 ? '✓ 0' : `${roundTrips.toFixed(2)} (not yet 0)` }
    }).join(' | ')} |`
  ]
  return { lines, failures }
}

function ratioLines(rows: Row[], variants: Variant[]): string[] {
  const rateOf = (variant: VariantId, scenario: ScenarioId) =>
    rows.find((r) => r.variant.id === variant && r.scenario.id === scenario)?.rate
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b
  const perVariant = (scenario: ScenarioId, over: ScenarioId) =>
    variants
      .filter((variant) => rateOf(variant.id, scenario) !== undefined)
      .map(
        (variant) =>
          `${variant.short} ${times(ratio(rateOf(variant.id, scenario), rateOf(variant.id, over)))}`
      )
      .join(' · ')
  return [
    '| ratio of transfers/s (medians) | value |',
    '| --- | --- |',
    `| all layers ÷ ceiling, uniform | ${times(ratio(rateOf('all-layers', 'uniform'), rateOf('ceiling', 'uniform')))} |`,
    `| all layers ÷ Redis off, uniform | ${times(ratio(rateOf('all-layers', 'uniform'), rateOf('redis-off', 'uniform')))} |`,
    `| hot payee ÷ uniform | ${perVariant('hot-payee', 'uniform') || '—'} |`,
    `| hot payer ÷ uniform | ${perVariant('hot-payer', 'uniform') || '—'} |`,
    `| replay ÷ first request (replays/s ÷ uniform transfers/s) | ${perVariant('replay', 'uniform') || '—'} |`,
    `| purchase ÷ transfer (purchases/s ÷ uniform transfers/s) | ${perVariant('purchase', 'uniform') || '—'} |`,
    `| purchase ÷ hot-payee transfer (purchases/s ÷ hot payee transfers/s; both credit one account) | ${perVariant('purchase', 'hot-payee') || '—'} |`
  ]
}

export function markdown(
  settings: Settings,
  machine: Machine,
  rows: Row[],
  checks: Verdict,
  serverLogs: string[]
): string {
  const rounds =
    settings.rounds === 1
      ? '1 round'
      : `${settings.rounds} rounds, interleaved (figures are medians; non-2xx and max cover all rounds)`
  const lines = [
    `\`${settings.command}\` — ${machine.date}`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.os}, Node ${machine.node}, PostgreSQL ${machine.postgres}, Redis ${machine.redis}; ` +
      `load average ${machine.loadBefore} at the start, ${machine.loadAfter} at the end. ` +
      `Load: ${settings.connections} connections, ${settings.durationS} s per measurement, ${rounds}. ` +
      `Each variant in its own process on its own fresh database; the load generator in another.`,
    '',
    '| variant | scenario | transfers/s | p50 ms | p99 ms | max ms | non-2xx | Node CPU ms/transfer | PG statements/transfer | PG round trips/transfer | Redis commands/transfer |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.variant.title} | ${r.scenario.title} | ${rate(r.rate)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.max.toFixed(0)} | ${refusedText(r)} | ${fixed(r.cpuMsPer, 2)} | ${fixed(r.statementsPer, 2)} | ${fixed(r.roundTripsPer, 2)} | ${r.variant.redis ? fixed(r.redisPer, 2) : '—'} |`
    ),
    '',
    'Replay rows count replays (each the same request again, answered from the idempotency record), purchase rows completed purchases (`POST /v1/purchases`, the in-process sandbox provider), where the other rows count transfers. Every purchase credits the one settlement account of its provider and currency: the hot-payee shape.',
    '',
    ...ratioLines(rows, settings.variants),
    '',
    ...checks.lines
  ]
  const redisRows = rows.filter((r) => r.redisPerCommand !== undefined)
  if (redisRows.length > 0) {
    lines.push('', 'Redis commands per transfer (per replay, per purchase), by command:', '')
    for (const r of redisRows) {
      const commands = Object.entries(r.redisPerCommand ?? {})
        .sort(([, a], [, b]) => b - a)
        .map(([command, n]) => `${n < 0.005 ? '<0.01' : n.toFixed(2)} ${command}`)
      lines.push(`- ${r.variant.short}, ${r.scenario.title}: ${commands.join(', ') || 'none'}`)
    }
  }
  if (serverLogs.length > 0) {
    lines.push(
      '',
      'Server log lines at warn or above during the run (count × message):',
      '',
      ...serverLogs.map((line) => `- ${line}`)
    )
  }
  return lines.join('\n')
}
