import type { Load, Mode } from './load.js'

/** One candidate run with the bare-route runs just before and after it. */
export interface Paired {
  candidate: Load
  bareBefore: Load
  bareAfter: Load
}

export interface Row {
  name: string
  runs: Record<Mode, Paired[]>
  /** Round trips per request: Redis commands, or SQL statements for the Postgres candidate. */
  roundTrips: { first: number; replay: number; unit: 'Redis' | 'SQL' }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Each candidate run against the mean of the bare runs on either side of it; the median over rounds. */
export function ratio(runs: Paired[]): number {
  return median(
    runs.map(({ candidate, bareBefore, bareAfter }) => candidate.rps / ((bareBefore.rps + bareAfter.rps) / 2))
  )
}

function cells(loads: Load[], ratioCell: string): string[] {
  return [
    median(loads.map((run) => run.rps)).toFixed(0),
    ratioCell,
    `${median(loads.map((run) => run.cpuMicrosPerRequest)).toFixed(0)} / ${median(loads.map((run) => run.redisCpuMicrosPerRequest)).toFixed(0)}`,
    `${median(loads.map((run) => run.p50))} / ${median(loads.map((run) => run.p99))}`
  ]
}

export function table(
  rows: Row[],
  bare: Record<Mode, Load[]>,
  settings: { connections: number; seconds: number; rounds: number }
): string {
  const lines = [
    `${settings.connections} connections, ${settings.seconds} s per run, ${settings.rounds} rounds. ratio = median over rounds of the candidate's req/s ÷ the mean of the bare-route runs just before and after it (same load mode). CPU = microseconds of CPU per request: the server process / the whole Redis server (shared: its figure for the bare route, which sends no command, is the noise from other users). req/s, CPU and latency are medians over rounds.`,
    '',
    '| candidate | first req/s | first ratio | first CPU µs/req server / Redis | first p50 / p99 ms | replay req/s | replay ratio | replay CPU µs/req server / Redis | replay p50 / p99 ms | round trips first / replay |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  lines.push(
    `| bare route (baseline) | ${[...cells(bare.first, '1.00'), ...cells(bare.replay, '1.00'), '0 / 0'].join(' | ')} |`
  )
  for (const { name, runs, roundTrips } of rows) {
    const loads = (mode: Mode) => runs[mode].map((run) => run.candidate)
    const failures = [...loads('first'), ...loads('replay')].reduce((sum, run) => sum + run.failures, 0)
    const trips = `${roundTrips.first} / ${roundTrips.replay}${roundTrips.unit === 'SQL' ? ' SQL' : ''}`
    lines.push(
      `| ${[`${name}${failures > 0 ? ` (${failures} non-2xx/errors)` : ''}`, ...cells(loads('first'), ratio(runs.first).toFixed(2)), ...cells(loads('replay'), ratio(runs.replay).toFixed(2)), trips].join(' | ')} |`
    )
  }
  return lines.join('\n')
}
