// One measurement: a variant under one scenario's load for a few seconds, with the server's
// CPU time, its Postgres traffic and Redis commands read just before the load starts and once
// the last request has finished, and the ledger checked afterwards.
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import { spawnChild } from './child.js'
import { ledgerViolations } from './ledger-check.js'
import { GO_LINE, READY_LINE, type LoadJob, type LoadResult } from './load-job.js'
import type { PgTraffic } from './pg-round-trip-proxy.js'
import { processCpuMs } from './process-cpu.js'
import { commandsBetween, redisCommandCalls } from './redis-commands.js'
import type { Scenario } from './scenarios.js'
import { createReplayables } from './seed.js'
import { APP_DIR, type RunningVariant } from './variants.js'

const LOAD_TS = fileURLToPath(new URL('./load.ts', import.meta.url))

export interface Measurement {
  load: LoadResult
  /** Transfers committed during the measurement (rows), purchases completed in it, or replays answered 2xx. */
  completed: number
  /** Server process CPU time, ms (undefined without /proc). */
  cpuMs: number | undefined
  pg: PgTraffic
  /** Commands the Redis executed, by command (undefined when the variant uses no Redis). */
  redisCommands: Record<string, number> | undefined
  /** Broken ledger invariants after the measurement (empty: sound). */
  ledger: string[]
}

interface Counters {
  cpuMs: number | undefined
  pg: PgTraffic
  redis: Record<string, number> | undefined
  transfers: number
  purchases: number
}

async function counters(running: RunningVariant, redis: Redis | undefined): Promise<Counters> {
  // The ceiling's database is migrated by the service too: it has the purchases table, empty.
  const [{ transfers, purchases }] = await running.db<[{ transfers: number; purchases: number }]>`
    SELECT (SELECT count(*)::int FROM transfers) AS transfers,
      (SELECT count(*)::int FROM purchases WHERE status = 'completed') AS purchases`
  return {
    cpuMs: processCpuMs(running.server.pid),
    pg: running.proxy.traffic(),
    redis: redis === undefined ? undefined : await redisCommandCalls(redis),
    transfers,
    purchases
  }
}

/** The operations a measurement completed, from the counters around it and the load's result. */
function completedOf(scenario: Scenario, result: LoadResult, before: Counters, after: Counters): number {
  switch (scenario.kind) {
    case 'transfers':
      return after.transfers - before.transfers
    case 'purchases':
      return after.purchases - before.purchases
    case 'replays':
      return result.ok
  }
}

/** What the load generator sends in `scenario`. */
async function jobOf(
  running: RunningVariant,
  scenario: Scenario,
  load: { connections: number; durationS: number }
): Promise<LoadJob> {
  const { url, parties } = running
  switch (scenario.kind) {
    case 'transfers':
      return {
        url,
        ...load,
        kind: 'transfers',
        pattern: scenario.pattern,
        payers: parties.payers,
        merchant: parties.merchant
      }
    case 'purchases':
      return { url, ...load, kind: 'purchases', product: scenario.product, payers: parties.payers }
    case 'replays':
      // Replayables made just before their measurement: the in-process store of the Redis-off
      // variant keeps its 10 000 most recent records, and the scenarios before it write far more.
      return { url, ...load, kind: 'replays', replayables: await createReplayables(url, parties.payers) }
  }
}

/** Waits until the server has stopped talking to Postgres: autocannon cuts in-flight requests at its deadline, the server still finishes them. */
async function settle(running: RunningVariant): Promise<void> {
  const deadline = Date.now() + 5000
  let last = running.proxy.traffic().statements
  let quietSince = Date.now()
  while (Date.now() < deadline && Date.now() - quietSince < 300) {
    await sleep(50)
    const now = running.proxy.traffic().statements
    if (now !== last) {
      last = now
      quietSince = Date.now()
    }
  }
}

/** Runs load.ts in its own process; `before` is called once it is ready, just before it starts. */
async function runLoad(
  job: LoadJob,
  before: () => Promise<void>,
  log: (m: string) => void
): Promise<LoadResult> {
  const lines: string[] = []
  let wake = () => {}
  const child = spawnChild('load', process.execPath, ['--import', 'tsx', LOAD_TS], {
    cwd: APP_DIR,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR })
    },
    echo: log,
    onStdoutLine: (line) => {
      lines.push(line)
      wake()
    }
  })
  const nextLine = async (): Promise<string> => {
    while (lines.length === 0) {
      if (child.exited())
        throw new Error(`load generator exited early: ${[...child.logTally.keys()].join(' | ')}`)
      await Promise.race([
        new Promise<void>((resolve) => {
          wake = resolve
        }),
        sleep(200)
      ])
    }
    return lines.shift() as string
  }
  try {
    child.process.stdin?.write(`${JSON.stringify(job)}\n`)
    const ready = await nextLine()
    if (ready !== READY_LINE)
      throw new Error(`load generator: expected "${READY_LINE}", got ${ready.slice(0, 200)}`)
    await before()
    child.process.stdin?.write(`${GO_LINE}\n`)
    return JSON.parse(await nextLine()) as LoadResult
  } finally {
    await child.stop(2000)
  }
}

export async function measure(
  running: RunningVariant,
  scenario: Scenario,
  load: { connections: number; durationS: number },
  redis: Redis | undefined,
  log: (m: string) => void
): Promise<Measurement> {
  const job = await jobOf(running, scenario, load)
  const countRedis = running.variant.redis ? redis : undefined
  let before: Counters | undefined
  const result = await runLoad(
    job,
    async () => {
      before = await counters(running, countRedis)
    },
    log
  )
  await settle(running)
  const after = await counters(running, countRedis)
  /* c8 ignore next -- runLoad calls `before` before the load can answer */
  if (before === undefined) throw new Error('measure: no counters before the load')
  return {
    load: result,
    completed: completedOf(scenario, result, before, after),
    cpuMs: after.cpuMs === undefined || before.cpuMs === undefined ? undefined : after.cpuMs - before.cpuMs,
    pg: {
      statements: after.pg.statements - before.pg.statements,
      roundTrips: after.pg.roundTrips - before.pg.roundTrips,
      connections: after.pg.connections - before.pg.connections
    },
    redisCommands:
      after.redis === undefined || before.redis === undefined
        ? undefined
        : commandsBetween(before.redis, after.redis),
    ledger: await ledgerViolations(running.db)
  }
}
