import { Redis } from 'ioredis'
import { Cleanup, freshDatabase } from '@moolah/test-utils'
import { candidates } from './candidates/index.js'
import { load, LOAD_CONNECTIONS, replayKey, send, type Load, type Mode } from './load.js'
import { countCommands } from './redis-figures.js'
import { table, type Paired, type Row } from './report.js'
import { startServer, type Server } from './servers.js'

/**
 * pnpm bench: every candidate and the bare baseline in a server process of its own on
 * loopback, against real Redis and Postgres, driven by autocannon from this process. Rounds
 * are interleaved: in each round and load mode the bare route runs before the first candidate
 * and after every candidate, so each ratio compares runs moments apart and all candidates see
 * the same stretch of this (shared, noisy) machine.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
// BENCH_ONLY=naive,moolah measures a subset (substring match).
const ONLY = process.env.BENCH_ONLY?.split(',')
// BENCH_CPU_PROF=dir: every server runs under `node --cpu-prof` and writes its profile into dir.
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROF
const ROUND_TRIP_SAMPLES = 50
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`
const PREFIX = `bench:idempotency:${RUN_ID}:`
const MODES: Mode[] = ['first', 'replay']

/** Round trips per request: Redis commands seen by MONITOR, or SQL statements the server counted. */
async function roundTrips(server: Server): Promise<Row['roundTrips']> {
  const keys = Array.from({ length: ROUND_TRIP_SAMPLES }, (_, i) => `${RUN_ID}-trips-${i}`)
  const sendAll = async () => {
    for (const key of keys) await send(server, key)
  }
  const statementsBefore = (await server.figures()).statements
  const first = await countCommands(REDIS_URL, server.prefix, sendAll)
  const statementsBetween = (await server.figures()).statements
  const replay = await countCommands(REDIS_URL, server.prefix, sendAll)
  const statementsAfter = (await server.figures()).statements
  if (statementsAfter > statementsBefore) {
    return {
      first: (statementsBetween - statementsBefore) / ROUND_TRIP_SAMPLES,
      replay: (statementsAfter - statementsBetween) / ROUND_TRIP_SAMPLES,
      unit: 'SQL'
    }
  }
  return { first: first / ROUND_TRIP_SAMPLES, replay: replay / ROUND_TRIP_SAMPLES, unit: 'Redis' }
}

async function deleteKeys(redis: Redis): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
}

const cleanup = new Cleanup()
const redis = new Redis(REDIS_URL)
cleanup.teardown(async () => {
  await deleteKeys(redis)
  redis.disconnect()
})
try {
  // A database of its own on DATABASE_URL's server, dropped at the end (the test kit's).
  const databaseUrl = await freshDatabase(cleanup)
  const names = Object.keys(candidates).filter(
    (name) => ONLY === undefined || ONLY.some((part) => name.includes(part))
  )
  const start = async (name: string, index: number) => {
    const server = await startServer(name, `${PREFIX}${index}:`, REDIS_URL, databaseUrl, CPU_PROFILE_DIR)
    cleanup.teardown(() => server.stop())
    return server
  }
  const bare = await start('bare', 0)
  const servers: Server[] = []
  for (const [index, name] of names.entries()) servers.push(await start(name, index + 1))

  // Warm-up (JIT, connection pools, script caches), and the completed key every replay run sends.
  for (const server of [bare, ...servers]) {
    await load(server, 'first', 1, RUN_ID, redis)
    await send(server, replayKey(RUN_ID))
    await load(server, 'replay', 1, RUN_ID, redis)
  }

  const bareRuns: Record<Mode, Load[]> = { first: [], replay: [] }
  const runs = servers.map(() => ({ first: [] as Paired[], replay: [] as Paired[] }))
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      let bareBefore = await load(bare, mode, SECONDS, RUN_ID, redis)
      bareRuns[mode].push(bareBefore)
      for (const [index, server] of servers.entries()) {
        const candidate = await load(server, mode, SECONDS, RUN_ID, redis)
        const bareAfter = await load(bare, mode, SECONDS, RUN_ID, redis)
        bareRuns[mode].push(bareAfter)
        runs[index]?.[mode].push({ candidate, bareBefore, bareAfter })
        bareBefore = bareAfter
      }
      const figures = (run: Load | undefined) =>
        `${run?.rps.toFixed(0)} req/s ${run?.cpuMicrosPerRequest.toFixed(0)} µs`
      console.log(
        `round ${round} ${mode}: bare ${bareRuns[mode]
          .slice(-servers.length - 1)
          .map(figures)
          .join(
            ', '
          )}; ${servers.map((server, index) => `${server.name} ${figures(runs[index]?.[mode].at(-1)?.candidate)}`).join('; ')}`
      )
    }
  }

  const rows: Row[] = []
  for (const [index, server] of servers.entries()) {
    rows.push({ name: server.name, runs: runs[index] as Row['runs'], roundTrips: await roundTrips(server) })
  }
  console.log(
    `\n${table(rows, bareRuns, { connections: LOAD_CONNECTIONS, seconds: SECONDS, rounds: ROUNDS })}`
  )
} finally {
  await cleanup.run()
}
