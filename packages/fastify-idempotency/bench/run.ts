import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { Cleanup, freshDatabase } from '@moolah/test-utils'
import { candidates } from './candidates/index.js'

/**
 * pnpm bench: every candidate in its own server process on loopback, driven by autocannon
 * (16 connections) against real Redis and Postgres. Throughput is reported as a ratio to the
 * bare route of the same process, measured just before and just after the candidate.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const CONNECTIONS = 16
const ROUND_TRIP_SAMPLES = 50
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`
const PREFIX = `bench:idempotency:${RUN_ID}:`
const BODY = JSON.stringify({ amount: 1050, currency: 'ZAR', toWalletId: 'w-2' })
const HEADERS = { 'content-type': 'application/json', 'x-user': 'user-1' }

interface Load { rps: number, p50: number, p99: number, failures: number }
/** Alternating measurements of the bare route and the candidate, in the same load mode. */
interface Paired { candidate: Load[], bare: Load[] }
interface Row { name: string, first: Paired, replay: Paired, roundTrips?: { first: number, replay: number } }

interface Server { port: number, barePort: number, commandCount: () => Promise<number>, stop: () => Promise<void> }

async function startServer(name: string, databaseUrl: string): Promise<Server> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [name, `${PREFIX}${Object.keys(candidates).indexOf(name)}:`, REDIS_URL, databaseUrl], { execArgv: ['--import', 'tsx'] })
  const [message] = await once(child, 'message') as [{ port: number, barePort: number }]
  return {
    port: message.port,
    barePort: message.barePort,
    async commandCount () {
      child.send('count')
      const [reply] = await once(child, 'message') as [{ commands: number }]
      return reply.commands
    },
    async stop () {
      const exited = once(child, 'exit')
      child.send('stop')
      await exited
    }
  }
}

async function load(port: number, mode: 'first' | 'replay', seconds: number): Promise<Load> {
  let counter = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{
      method: 'POST',
      path: '/transfers',
      headers: { ...HEADERS, 'idempotency-key': `${RUN_ID}-replay` },
      body: BODY,
      // A unique key per request measures the first-request path; a fixed one measures replay.
      ...(mode === 'first' ? { setupRequest: (request: autocannon.Request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `${RUN_ID}-${port}-${counter++}` } }) } : {})
    }]
  })
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors + result.timeouts }
}

async function send(port: number, key: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/transfers`, { method: 'POST', headers: { ...HEADERS, 'idempotency-key': key }, body: BODY })
  await response.arrayBuffer()
}

/** Redis commands per request, counted at the client (each command is one round trip). */
async function roundTrips(server: Server): Promise<{ first: number, replay: number }> {
  const start = await server.commandCount()
  for (let i = 0; i < ROUND_TRIP_SAMPLES; i++) await send(server.port, `${RUN_ID}-trips-${i}`)
  const afterFirst = await server.commandCount()
  for (let i = 0; i < ROUND_TRIP_SAMPLES; i++) await send(server.port, `${RUN_ID}-trips-${i}`)
  const afterReplay = await server.commandCount()
  return { first: (afterFirst - start) / ROUND_TRIP_SAMPLES, replay: (afterReplay - afterFirst) / ROUND_TRIP_SAMPLES }
}

async function measure(name: string, databaseUrl: string): Promise<Row> {
  process.stdout.write(`${name}: `)
  const server = await startServer(name, databaseUrl)
  try {
    // Warm-up: JIT, connection pools, script cache.
    await load(server.barePort, 'first', 1)
    await load(server.port, 'first', 1)
    const paired = async (mode: 'first' | 'replay'): Promise<Paired> => {
      const result: Paired = { candidate: [], bare: [await load(server.barePort, mode, SECONDS)] }
      for (let round = 0; round < ROUNDS; round++) {
        result.candidate.push(await load(server.port, mode, SECONDS))
        result.bare.push(await load(server.barePort, mode, SECONDS))
      }
      process.stdout.write(`${mode} ${result.candidate.map((run) => run.rps.toFixed(0)).join('/')} req/s (bare ${result.bare.map((run) => run.rps.toFixed(0)).join('/')})  `)
      return result
    }
    const first = await paired('first')
    await send(server.port, `${RUN_ID}-replay`)
    const replay = await paired('replay')
    process.stdout.write('\n')
    const counted = name.startsWith('@moolah') || name.startsWith('naive')
    return { name, first, replay, ...(counted ? { roundTrips: await roundTrips(server) } : {}) }
  } finally {
    await server.stop()
  }
}

async function deleteKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL)
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  redis.disconnect()
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Each candidate run against the mean of the bare runs on either side of it; the median over rounds. */
function ratio(paired: Paired): number {
  return median(paired.candidate.map((run, i) => run.rps / (((paired.bare[i] as Load).rps + (paired.bare[i + 1] as Load).rps) / 2)))
}

function summary(runs: Load[]): string {
  return `${median(runs.map((run) => run.rps)).toFixed(0)}`
}

function latency(runs: Load[]): string {
  return `${median(runs.map((run) => run.p50))} / ${median(runs.map((run) => run.p99))}`
}

function table(rows: Row[]): string {
  const lines = [
    `${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds; ratio = median over rounds of candidate req/s ÷ mean of the bare-route runs just before and after it (same process, same load mode); req/s and latency are medians`,
    '',
    '| candidate | first req/s | first ratio | first p50 / p99 ms | replay req/s | replay ratio | replay p50 / p99 ms | Redis round trips first / replay |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
  ]
  for (const { name, first, replay, roundTrips } of rows) {
    const failures = [...first.candidate, ...replay.candidate].reduce((sum, run) => sum + run.failures, 0)
    const cells = [
      `${name}${failures > 0 ? ` (${failures} non-2xx/errors)` : ''}`,
      summary(first.candidate), ratio(first).toFixed(2), latency(first.candidate),
      summary(replay.candidate), ratio(replay).toFixed(2), latency(replay.candidate),
      roundTrips === undefined ? '–' : `${roundTrips.first} / ${roundTrips.replay}`
    ]
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

const rows: Row[] = []
const cleanup = new Cleanup()
try {
  // A database of its own on DATABASE_URL's server, dropped at the end (the test kit's).
  const databaseUrl = await freshDatabase(cleanup)
  // BENCH_ONLY=naive,moolah measures a subset (substring match).
  const only = process.env.BENCH_ONLY?.split(',')
  for (const name of Object.keys(candidates).filter((candidate) => only === undefined || only.some((part) => candidate.includes(part)))) {
    rows.push(await measure(name, databaseUrl))
  }
} finally {
  await cleanup.run()
  await deleteKeys()
}
console.log(`\n${table(rows)}`)
