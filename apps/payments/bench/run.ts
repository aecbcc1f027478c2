// `pnpm bench` in apps/payments: transfers and purchases through the built service (dist/server.js), each
// server under test in its own process on its own fresh database, behind a proxy that counts
// its Postgres statements and round trips, driven by a load generator in another process;
// against a ceiling (the textbook transaction in a bare Fastify + postgres.js server) and the
// service with its Redis layers off, all in one run, rounds interleaved. Progress on stderr,
// the report (markdown) on stdout. Exits 1 when a check fails (see report.ts `verdict`).
import { existsSync, statSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { Cleanup, startRedis, type Teardown } from '@moolah/test-utils'
import { loadAverage, machineFacts } from './machine.js'
import { measure, type Measurement } from './measure.js'
import { markdown, summarize, verdict, type Row } from './report.js'
import { runs, SCENARIOS, type Scenario, type Variant } from './scenarios.js'
import { totalCalls } from './redis-commands.js'
import { readSettings, type Settings } from './settings.js'
import { APP_DIR, SERVER_JS, startVariant, type RunningVariant } from './variants.js'

const WARMUP_S = 2
const CLEANUP_STEP_MS = 15_000

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)
}

/**
 * A Teardown whose steps may not hang the clean-up: a step that has not finished after
 * CLEANUP_STEP_MS is left behind (e.g. waiting for the exit of a child that Ctrl-C already ended).
 */
function bounded(cleanup: Cleanup): Teardown {
  return {
    teardown: (fn) =>
      cleanup.teardown(() =>
        Promise.race([
          Promise.resolve()
            .then(fn)
            .catch((err: unknown) =>
              log(`clean-up step failed: ${err instanceof Error ? err.message : String(err)}`)
            ),
          sleep(CLEANUP_STEP_MS, undefined, { ref: false })
        ])
      )
  }
}

/** Warns when src/ changed after the last build: the benchmark measures dist/. */
async function checkBuild(): Promise<void> {
  if (!existsSync(SERVER_JS))
    throw new Error(
      `${SERVER_JS} is missing: run \`pnpm build\` first (the benchmark measures the built service)`
    )
  const newest = async (dir: string) => {
    let latest = 0
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
    }
    return latest
  }
  if ((await newest(join(APP_DIR, 'src'))) > (await newest(join(APP_DIR, 'dist')))) {
    log(
      'warning: src/ has changed since dist/ was built; this run measures the older build (run `pnpm build`, or `pnpm bench` from the repository root)'
    )
  }
}

function progress(
  round: number,
  settings: Settings,
  scenario: Scenario,
  variant: Variant,
  m: Measurement
): string {
  const per = (value: number | undefined) =>
    value === undefined || m.completed <= 0 ? '—' : (value / m.completed).toFixed(2)
  const refused = Object.entries(m.load.statuses)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${count}× ${status}`)
  return (
    `round ${round}/${settings.rounds} · ${scenario.id} · ${variant.id}: ${(m.load.ok / m.load.durationS).toFixed(0)}/s, ` +
    `p50 ${m.load.latencyMs.p50.toFixed(0)} ms, p99 ${m.load.latencyMs.p99.toFixed(0)} ms, max ${m.load.latencyMs.max.toFixed(0)} ms` +
    `${refused.length > 0 ? `, ${refused.join(' ')}` : ''}${m.load.errors > 0 ? `, ${m.load.errors} no answer` : ''}; per ${scenario.unit}: ` +
    `${per(m.cpuMs)} ms CPU, ${per(m.pg.statements)} statements, ${per(m.pg.roundTrips)} round trips, ${per(m.redisCommands === undefined ? undefined : totalCalls(m.redisCommands))} Redis commands` +
    `${m.ledger.length > 0 ? ` — LEDGER BROKEN: ${m.ledger.join('; ')}` : ''}`
  )
}

async function main(cleanup: Cleanup): Promise<number> {
  const settings = readSettings()
  const t = bounded(cleanup)
  await checkBuild()
  const loadBefore = loadAverage()
  log(
    `${settings.command}: ${settings.variants.map((v) => v.id).join(', ')} × ${settings.scenarios.map((s) => s.id).join(', ')}, ` +
      `${settings.rounds} round(s) of ${settings.durationS} s at ${settings.connections} connections`
  )

  // A private redis-server: INFO commandstats then counts the service's commands only, not
  // those of whatever else shares the machine's Redis.
  let redis: Redis | undefined
  let redisUrl: string | undefined
  if (settings.variants.some((v) => v.redis)) {
    const server = await startRedis(t)
    redisUrl = server.url
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    client.on('error', () => {}) // the server may die first on Ctrl-C; a failed INFO fails its measurement anyway
    await client.connect()
    t.teardown(() => client.disconnect())
    redis = client
  }

  const running: RunningVariant[] = []
  for (const variant of settings.variants) running.push(await startVariant(t, variant, { redisUrl, log }))

  const failures: string[] = []
  for (const v of running) {
    log(`${v.variant.id}: warming up (${WARMUP_S} s of uniform transfers, not reported)`)
    const warmup = await measure(
      v,
      SCENARIOS[0] as Scenario,
      { connections: settings.connections, durationS: Math.min(WARMUP_S, settings.durationS) },
      redis,
      log
    )
    if (warmup.ledger.length > 0)
      failures.push(`${v.variant.id}: ledger broken after the warm-up: ${warmup.ledger.join('; ')}`)
  }

  const results = new Map<string, Measurement[]>()
  for (let round = 1; round <= settings.rounds; round++) {
    for (const scenario of settings.scenarios) {
      for (const v of running) {
        if (!runs(v.variant, scenario)) continue
        const m = await measure(
          v,
          scenario,
          { connections: settings.connections, durationS: settings.durationS },
          redis,
          log
        )
        const key = `${v.variant.id}/${scenario.id}`
        results.set(key, [...(results.get(key) ?? []), m])
        log(progress(round, settings, scenario, v.variant, m))
      }
    }
  }

  const rows: Row[] = []
  for (const v of running) {
    for (const scenario of settings.scenarios) {
      const measurements = results.get(`${v.variant.id}/${scenario.id}`)
      if (measurements !== undefined) rows.push(summarize(v.variant, scenario, measurements))
    }
  }
  const checks = verdict(rows, settings.variants)
  failures.push(...checks.failures)
  const serverLogs = running.flatMap((v) =>
    [...v.server.logTally].map(([message, count]) => `${v.variant.title}: ${count}× ${message}`)
  )
  const facts = await machineFacts((running[0] as RunningVariant).db, redis)
  const machine = {
    ...facts,
    loadBefore,
    loadAfter: loadAverage(),
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`
  }
  console.log(`\n${markdown(settings, machine, rows, checks, serverLogs)}\n`)

  for (const failure of failures) log(`FAILED: ${failure}`)
  return failures.length === 0 ? 0 : 1
}

const cleanup = new Cleanup()
let finishing = false
async function finish(code: number): Promise<void> {
  if (finishing) return
  finishing = true
  log('cleaning up: stopping servers, dropping databases')
  await cleanup.run()
  process.exit(code)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: interrupted`)
    void finish(130)
  })
}
main(cleanup).then(
  (code) => finish(code),
  (err: unknown) => {
    // After Ctrl-C, whatever was running fails as its processes go: not worth a stack trace.
    if (!finishing) log(err instanceof Error ? (err.stack ?? err.message) : String(err))
    return finish(1)
  }
)
