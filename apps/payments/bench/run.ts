// `pnpm bench` in apps/payments: transfers per second and latency of two instances on real
// Postgres and Redis, uniform traffic over many wallets and all traffic on one hot wallet,
// against the same two instances with in-process stores (no Redis round trips: the database's
// row locks and unique keys are then the only cross-instance guard), all in one run.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { Cleanup, freshDatabase } from '@moolah/test-utils'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const DURATION_S = Number(process.env.BENCH_DURATION ?? 8)
const CONNECTIONS = 16
const WALLETS = 200
const ADMIN_TOKEN = 'bench-admin-token-0123456789'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Party { apiKey: string, walletId: string }
interface Result { scenario: string, layers: string, rps: number, p50: number, p99: number, created: number, refused: string }

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`)
}

async function startInstances(env: Record<string, string>): Promise<{ apps: FastifyInstance[], urls: string[] }> {
  const config = loadConfig({ ADMIN_TOKEN, LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '1000000', RATE_LIMIT_TRANSFERS_MAX: '1000000', LOCK_WAIT_MS: '5000', ...env })
  const apps = [await buildApp(config, { logger: false }), await buildApp(config, { logger: false })]
  const urls = await Promise.all(apps.map((app) => app.listen({ port: 0, host: '127.0.0.1' })))
  return { apps, urls }
}

async function call(url: string, token: string, path: string, payload: object, key?: string): Promise<{ id: string, apiKey: string }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    body: JSON.stringify(payload)
  })
  if (response.status !== 201) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return response.json() as Promise<{ id: string, apiKey: string }>
}

async function seed(url: string): Promise<Party[]> {
  const parties: Party[] = []
  for (let i = 0; i < WALLETS; i++) {
    const user = await call(url, ADMIN_TOKEN, '/v1/users', { name: `bench ${i}` })
    const wallet = await call(url, user.apiKey, '/v1/wallets', { currency: 'ZAR' }, randomUUID())
    await call(url, ADMIN_TOKEN, '/v1/deposits', { walletId: wallet.id, amount: 1_000_000_000 }, randomUUID())
    parties.push({ apiKey: user.apiKey, walletId: wallet.id })
  }
  return parties
}

/** Runs one autocannon per instance at the same time; every request a new transfer. */
async function load(urls: string[], pick: () => [Party, Party]): Promise<Omit<Result, 'scenario' | 'layers'>> {
  const runs = await Promise.all(urls.map((url) => autocannon({
    url,
    connections: CONNECTIONS / urls.length,
    duration: DURATION_S,
    requests: [{
      method: 'POST',
      path: '/v1/transfers',
      setupRequest: (request) => {
        const [from, to] = pick()
        return {
          ...request,
          headers: { authorization: `Bearer ${from.apiKey}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ fromWalletId: from.walletId, toWalletId: to.walletId, amount: 1, currency: 'ZAR' })
        }
      }
    }]
  })))
  await sleep(1000) // autocannon stops at the deadline with requests still in flight: let them finish
  const created = runs.reduce((sum, run) => sum + run['2xx'], 0)
  return {
    rps: created / DURATION_S,
    // The two instances see the same load; their medians and tails are averaged.
    p50: runs.reduce((sum, run) => sum + run.latency.p50, 0) / runs.length,
    p99: runs.reduce((sum, run) => sum + run.latency.p99, 0) / runs.length,
    created,
    refused: refusedByStatus(runs)
  }
}

/** "3× 409" style: which non-2xx statuses were answered, and how often. */
function refusedByStatus(runs: autocannon.Result[]): string {
  const counts = new Map<string, number>()
  for (const run of runs) {
    for (const [status, { count }] of Object.entries(run.statusCodeStats ?? {})) {
      if (!status.startsWith('2')) counts.set(status, (counts.get(status) ?? 0) + (count ?? 0))
    }
  }
  return counts.size === 0 ? '0' : [...counts].map(([status, count]) => `${count}× ${status}`).join(', ')
}

async function measure(layers: string, env: Record<string, string>): Promise<Result[]> {
  const cleanup = new Cleanup()
  try {
    log(`${layers}: starting two instances`)
    const { apps, urls } = await startInstances({ DATABASE_URL: await freshDatabase(cleanup), ...env })
    cleanup.teardown(() => Promise.all(apps.map((app) => app.close())))
    log(`${layers}: seeding ${WALLETS} funded wallets`)
    const parties = await seed(urls[0] as string)
    const random = () => parties[Math.floor(Math.random() * parties.length)] as Party
    const results: Result[] = []
    log(`${layers}: uniform transfers for ${DURATION_S} s`)
    results.push({ scenario: 'uniform', layers, ...(await load(urls, () => {
      const from = random()
      let to = random()
      while (to === from) to = random()
      return [from, to]
    })) })
    const hot = parties[0] as Party
    log(`${layers}: one hot wallet for ${DURATION_S} s`)
    results.push({ scenario: 'hot wallet', layers, ...(await load(urls, () => {
      let to = random()
      while (to === hot) to = random()
      return [hot, to]
    })) })
    return results
  } finally {
    await cleanup.run()
  }
}

const prefix = `bench:${process.pid}:`
const results = [
  ...(await measure('all layers (Redis)', { REDIS_URL, REDIS_KEY_PREFIX: prefix })),
  ...(await measure('no Redis (in-process stores)', {}))
]
const redis = new Redis(REDIS_URL)
const keys = await redis.keys(`${prefix}*`)
if (keys.length > 0) await redis.unlink(...keys)
await redis.quit()

const baseline = (scenario: string) => results.find((r) => r.scenario === scenario && r.layers.startsWith('no Redis')) as Result
console.log(`\nTransfers through two instances, ${CONNECTIONS} connections, ${DURATION_S} s per row (node ${process.version})\n`)
console.log('| scenario | layers | transfers/s | vs no Redis | p50 ms | p99 ms | 201s | non-2xx |')
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(`| ${r.scenario} | ${r.layers} | ${r.rps.toFixed(0)} | ${(r.rps / baseline(r.scenario).rps).toFixed(2)}× | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.created} | ${r.refused} |`)
}
