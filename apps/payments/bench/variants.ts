// Starting a server under test: its own fresh database, a counting proxy in front of it, its
// own process, and the same seeded data (through the service's HTTP contract) for every variant.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { freePort, freshDatabase, type Teardown } from '@moolah/test-utils'
import { spawnChild, waitForPort, type Child } from './child.js'
import { startPgRoundTripProxy, type PgRoundTripProxy } from './pg-round-trip-proxy.js'
import type { Variant } from './scenarios.js'
import { seedParties, type Parties } from './seed.js'
import { LOCK_WAIT_MS, PAYERS } from './settings.js'

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url))
export const SERVER_JS = fileURLToPath(new URL('../dist/server.js', import.meta.url))
const CEILING_TS = fileURLToPath(new URL('./ceiling.ts', import.meta.url))

export interface RunningVariant {
  variant: Variant
  url: string
  server: Child
  proxy: PgRoundTripProxy
  /** A direct connection to the variant's database (not through the proxy): counts and checks. */
  db: postgres.Sql
  parties: Parties
  /** Completed transfers to replay (service variants only). */
}

export interface VariantContext {
  /** The Redis of the all-layers variant. */
  redisUrl: string | undefined
  log: (message: string) => void
}

/** Only what the process needs: nothing of the caller's environment (REDIS_URL least of all) leaks in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  for (const name of ['HOME', 'TMPDIR'])
    if (process.env[name] !== undefined) env[name] = process.env[name] as string
  return env
}

async function startService(
  t: Teardown,
  name: string,
  databaseUrl: string,
  redisUrl: string | undefined,
  adminToken: string,
  log: (m: string) => void
): Promise<{ server: Child; url: string }> {
  const port = await freePort()
  const server = spawnChild(name, process.execPath, [SERVER_JS], {
    cwd: APP_DIR,
    echo: log,
    env: {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl }),
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '1000000',
      RATE_LIMIT_TRANSFERS_MAX: '1000000',
      LOCK_WAIT_MS: String(LOCK_WAIT_MS)
    }
  })
  t.teardown(() => server.stop())
  await waitForPort(server, port)
  return { server, url: `http://127.0.0.1:${port}` }
}

async function startCeiling(
  t: Teardown,
  databaseUrl: string,
  parties: Parties,
  log: (m: string) => void
): Promise<{ server: Child; url: string }> {
  const port = await freePort()
  const server = spawnChild('ceiling', process.execPath, ['--import', 'tsx', CEILING_TS], {
    cwd: APP_DIR,
    echo: log,
    env: { ...baseEnv(), PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }
  })
  t.teardown(() => server.stop())
  const keys = Object.fromEntries(
    [...parties.payers, parties.merchant].map((party) => [party.apiKey, party.userId])
  )
  server.process.stdin?.write(`${JSON.stringify(keys)}\n`)
  await waitForPort(server, port)
  return { server, url: `http://127.0.0.1:${port}` }
}

/**
 * A fresh database, migrated and seeded by the service itself; then the variant's server on it,
 * behind the counting proxy. The ceiling's database is migrated and seeded by a service
 * process (Redis off) that is stopped before the ceiling starts.
 */
export async function startVariant(
  t: Teardown,
  variant: Variant,
  context: VariantContext
): Promise<RunningVariant> {
  const { log } = context
  const directUrl = await freshDatabase(t)
  const db = postgres(directUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => db.end({ timeout: 5 }))
  const target = new URL(directUrl)
  const proxy = await startPgRoundTripProxy({ host: target.hostname, port: Number(target.port || 5432) })
  t.teardown(() => proxy.close())
  const proxiedUrl = new URL(directUrl)
  proxiedUrl.hostname = '127.0.0.1'
  proxiedUrl.port = String(proxy.port)
  const adminToken = randomBytes(32).toString('hex')

  if (!variant.service) {
    log(`${variant.id}: migrating and seeding ${PAYERS} funded wallets through a service process`)
    const seeder = await startService(t, `${variant.id} seeder`, directUrl, undefined, adminToken, log)
    const parties = await seedParties(seeder.url, adminToken, PAYERS)
    await seeder.server.stop()
    const { server, url } = await startCeiling(t, proxiedUrl.toString(), parties, log)
    return { variant, url, server, proxy, db, parties }
  }

  log(`${variant.id}: starting the service, migrating, seeding ${PAYERS} funded wallets`)
  const redisUrl = variant.redis ? context.redisUrl : undefined
  const { server, url } = await startService(t, variant.id, proxiedUrl.toString(), redisUrl, adminToken, log)
  const parties = await seedParties(url, adminToken, PAYERS)
  return { variant, url, server, proxy, db, parties }
}
