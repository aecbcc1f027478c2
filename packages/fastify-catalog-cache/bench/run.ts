// pnpm bench — real Redis on 127.0.0.1:6379 (REDIS_URL). Prints progress, then a table of
// ratios against baselines measured in the same run.
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildCatalog } from './catalog.js'
import { createCache } from 'async-cache-dedupe'
import { CONTENDERS, createContender, REDIS_URL, type Contender } from './contenders.js'

const run = `bench:${process.pid}-${Date.now()}:`
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 2)
// The machine is shared: interleaved rounds and medians keep one noisy moment from deciding a ratio
const ROUNDS = 5
const CONNECTIONS = 50
const STAMPEDE = 1000
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
const tsx = (file: string, args: string[]) =>
  spawn(process.execPath, ['--import', 'tsx', here(file), ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
const rows: Array<[string, string, string]> = []
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const log = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

async function routeThroughput(): Promise<void> {
  const server = tsx('server.ts', [run])
  const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string]
  const { ports, etag, bytes } = JSON.parse(line) as {
    ports: Record<string, number>
    etag: string
    bytes: number
  }
  const targets: Array<[string, number, Record<string, string>]> = [
    ['route: bare Fastify, same pre-built bytes (baseline)', ports.bare as number, {}],
    ['route: moolah L1 hit', ports.l1 as number, {}],
    ['route: moolah L2-only hit (Redis GET each request)', ports.l2 as number, {}],
    ['route: moolah 304 (If-None-Match)', ports.l1 as number, { 'if-none-match': etag }],
    ['route: bentocache getOrSet', ports.bentocache as number, {}],
    ['route: async-cache-dedupe', ports['async-cache-dedupe'] as number, {}]
  ]
  log(
    `route throughput: ${bytes} byte catalog, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION_S} s, median`
  )
  const samples = targets.map(() => [] as number[])
  for (const [label, port, headers] of targets)
    await autocannon({
      url: `http://127.0.0.1:${port}/catalog`,
      connections: CONNECTIONS,
      duration: 1,
      headers
    }).then(() => log(`  warmed up ${label}`))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [label, port, headers]] of targets.entries()) {
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/catalog`,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers
      })
      if (result.errors > 0 || (result.non2xx > 0 && headers['if-none-match'] === undefined))
        throw new Error(`${label}: ${result.errors} errors, ${result.non2xx} non-2xx answers`)
      samples[i]?.push(result.requests.average)
      log(`  round ${round + 1}, ${label}: ${fmt(result.requests.average)} req/s`)
    }
  }
  const sorted = samples.map((values) => values.sort((a, b) => a - b))
  const median = (i: number): number => sorted[i]?.[Math.floor(ROUNDS / 2)] ?? 0
  const best = (i: number): number => sorted[i]?.[ROUNDS - 1] ?? 0
  for (const [i, [label]] of targets.entries()) {
    rows.push([
      label,
      `${fmt(median(i))} req/s median, ${fmt(best(i))} best`,
      `${(median(i) / median(0)).toFixed(2)} median, ${(best(i) / best(0)).toFixed(2)} best`
    ])
  }
  server.kill()
}

async function warmGets(): Promise<void> {
  log('warm in-process get() of the 30 KB catalog, 1 s each')
  const contenders: Array<[string, () => Promise<Contender>]> = [
    ...CONTENDERS.map(
      (name) =>
        [
          `${name} (${name === 'async-cache-dedupe' ? 'Redis storage' : 'memory L1 + Redis L2'})`,
          () => createContender(name, `${run}warm:${name}:`, async () => buildCatalog())
        ] as [string, () => Promise<Contender>]
    ),
    [
      'async-cache-dedupe (memory storage only)',
      async () => {
        const cache = createCache({ ttl: 3600, storage: { type: 'memory' } }).define('catalog', async () =>
          buildCatalog()
        ) as unknown as { catalog: (key: string) => Promise<unknown> }
        return { get: (key) => cache.catalog(key), close: async () => {} }
      }
    ]
  ]
  let ours = 0
  for (const [label, create] of contenders) {
    const contender = await create()
    await contender.get('catalog')
    let count = 0
    const until = performance.now() + 1000
    while (performance.now() < until) {
      for (let i = 0; i < 1000; i++) await contender.get('catalog')
      count += 1000
    }
    ours ||= count
    log(`  ${label}: ${fmt(count)} get/s`)
    rows.push([`warm get(): ${label}`, `${fmt(count)} /s`, (count / ours).toFixed(3)])
    await contender.close()
  }
}

async function stampedes(): Promise<void> {
  const redis = new Redis(REDIS_URL)
  for (const name of CONTENDERS) {
    let loads = 0
    const contender = await createContender(name, `${run}one:${name}:`, async () => {
      loads++
      await sleep(100)
      return buildCatalog()
    })
    await Promise.all(Array.from({ length: STAMPEDE }, () => contender.get('catalog')))
    await contender.close()

    const prefix = `${run}three:${name}:`
    const workers = [0, 1, 2].map((i) =>
      tsx('stampede-worker.ts', [
        name,
        prefix,
        String(Math.floor(STAMPEDE / 3) + (i === 0 ? STAMPEDE % 3 : 0))
      ])
    )
    // Barrier: every worker is set up before any of them starts
    await Promise.all(workers.map((worker) => once(createInterface({ input: worker.stdout }), 'line')))
    for (const worker of workers) worker.stdin.end('go\n')
    const exits = await Promise.all(workers.map((worker) => once(worker, 'exit') as Promise<[number | null]>))
    if (exits.some(([code]) => code !== 0))
      throw new Error(
        `${name}: a stampede worker failed (exit codes ${exits.map(([code]) => code).join(', ')})`
      )
    const acrossProcesses = Number(await redis.get(`${prefix}loads`))
    log(
      `cold stampede of ${STAMPEDE}, ${name}: ${loads} load(s) in one process, ${acrossProcesses} across 3 processes`
    )
    rows.push([
      `cold stampede ${STAMPEDE}: ${name}`,
      `${loads} load(s) in 1 process, ${acrossProcesses} across 3`,
      ''
    ])
  }
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${run}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
  } while (cursor !== '0')
  redis.disconnect()
}

await routeThroughput()
await warmGets()
await stampedes()
log('\n| measurement | result | ratio |\n| --- | --- | --- |')
for (const [what, result, ratio] of rows) log(`| ${what} | ${result} | ${ratio} |`)
process.exit(0)
