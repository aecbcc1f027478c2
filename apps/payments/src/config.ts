import { randomBytes } from 'node:crypto'
import { adminTokenProblem } from './admin-token.js'
import { EnvReader } from './env-reader.js'
import { DEFAULT_SANDBOX_DELAY_MS } from './purchases/sandbox.js'
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js'

/** Everything the service reads from its environment, validated once at start-up. */
export interface Config {
  port: number
  host: string
  /** Postgres; absent → embedded PGlite under `dataDir`. */
  databaseUrl: string | undefined
  /** Redis; absent → in-process stores (single instance only). */
  redisUrl: string | undefined
  /** Prefix of every Redis key the service writes, so several deployments can share a Redis. */
  redisKeyPrefix: string
  adminToken: string
  /** True when the admin token was generated for this run (embedded mode). */
  adminTokenGenerated: boolean
  logLevel: string
  lockWaitMs: number
  idempotencyTtlSeconds: number
  rateLimitMax: number
  rateLimitTransfersMax: number
  /** An anonymous IPv6 client is counted by this network prefix (bits), not per address. */
  rateLimitIpv6Prefix: number
  supportedCurrencies: string[]
  catalogSourceDir: string | undefined
  catalogTtlSeconds: number
  dataDir: string
  /** Which peers' X-Forwarded-* headers are believed (Fastify's `trustProxy`); off by default. */
  trustProxy: TrustProxy
  /** How long a shutdown may drain before the process exits 1 anyway. */
  shutdownGraceMs: number
  /** The provider's HTTP endpoint; absent → the built-in sandbox, in process. */
  providerUrl: string | undefined
  /** How long a call to the provider may take before its outcome counts as unknown. */
  providerTimeoutMs: number
  /** How long the in-process sandbox's late recipient takes (the sandbox command reads the same variable). */
  sandboxDelayMs: number
  /** Past this age a pending purchase is failed and refunded if the provider confirms it never fulfilled it. */
  purchaseSettleMaxSeconds: number
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/**
 * SHUTDOWN_GRACE_MS's default, less LOCK_WAIT_MS: what else a request may legitimately take.
 * Node's requestTimeout gives a client 30 s to send it (app.ts); then its handler may wait
 * LOCK_WAIT_MS for the wallet, and its database calls give up at their 2.5 s deadline each
 * (db/database.ts), Redis calls at 500 ms: 15 s cover those with room to spare.
 */
const SHUTDOWN_GRACE_BASE_MS = 30_000 + 15_000

/** What `pnpm db:migrate` needs: where the database is, nothing else. */
export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'dataDir'>

/** Reads and validates the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = new EnvReader(env)
  const { databaseUrl, dataDir } = readDatabase(read)
  const redisUrl = read.url('REDIS_URL', ['redis:', 'rediss:'])

  let adminToken = read.raw('ADMIN_TOKEN')
  const adminTokenGenerated = adminToken === undefined && databaseUrl === undefined
  if (adminToken === undefined) {
    if (databaseUrl !== undefined)
      read.problems.push(
        'ADMIN_TOKEN is required when DATABASE_URL is set (use a long random secret, e.g. `openssl rand -hex 32`)'
      )
    adminToken = randomBytes(24).toString('base64url')
  } else {
    const problem = adminTokenProblem(adminToken)
    if (problem !== undefined) read.problems.push(problem)
  }

  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel))
    read.problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)

  const supportedCurrencies = (env.SUPPORTED_CURRENCIES ?? 'ZAR,USD')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
  const badCurrencies = supportedCurrencies.filter((c) => !/^[A-Z]{3}$/.test(c))
  if (supportedCurrencies.length === 0 || badCurrencies.length > 0) {
    read.problems.push(
      `SUPPORTED_CURRENCIES must be a comma-separated list of ISO 4217 codes such as "ZAR,USD", got "${env.SUPPORTED_CURRENCIES}"`
    )
  }

  const lockWaitMs = read.int('LOCK_WAIT_MS', 2000, 0, 60_000)
  const config: Config = {
    port: read.int('PORT', 3000, 0, 65535),
    host: env.HOST ?? '127.0.0.1',
    databaseUrl,
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'moolah:',
    adminToken,
    adminTokenGenerated,
    logLevel,
    lockWaitMs,
    idempotencyTtlSeconds: read.int('IDEMPOTENCY_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    rateLimitMax: read.int('RATE_LIMIT_MAX', 600, 1, 1_000_000),
    rateLimitTransfersMax: read.int('RATE_LIMIT_TRANSFERS_MAX', 120, 1, 1_000_000),
    rateLimitIpv6Prefix: read.int('RATE_LIMIT_IPV6_PREFIX', 56, 32, 128),
    supportedCurrencies: [...new Set(supportedCurrencies)],
    catalogSourceDir: read.raw('CATALOG_SOURCE_DIR'),
    catalogTtlSeconds: read.int('CATALOG_TTL_SECONDS', 300, 1, 7 * 86_400),
    dataDir,
    trustProxy: read.parsed('TRUST_PROXY', false, parseTrustProxy),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', SHUTDOWN_GRACE_BASE_MS + lockWaitMs, 1, 3_600_000),
    providerUrl: read.url('PROVIDER_URL', ['http:', 'https:']),
    providerTimeoutMs: read.int('PROVIDER_TIMEOUT_MS', 5000, 1, 60_000),
    sandboxDelayMs: read.int('SANDBOX_DELAY_MS', DEFAULT_SANDBOX_DELAY_MS, 0, 600_000),
    purchaseSettleMaxSeconds: read.int('PURCHASE_SETTLE_MAX_SECONDS', 120, 1, 7 * 86_400)
  }
  if (read.problems.length > 0) throw new ConfigError(read.problems)
  return config
}

/** The database settings alone, for `pnpm db:migrate`: it needs no secret it does not use. */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const read = new EnvReader(env)
  const config = readDatabase(read)
  if (read.problems.length > 0) throw new ConfigError(read.problems)
  return config
}

function readDatabase(read: EnvReader): DatabaseConfig {
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:'])
  // A misspelt or missing DATABASE_URL must not start a production ledger on a local PGlite file
  if (read.raw('DATABASE_URL') === undefined && read.raw('NODE_ENV') === 'production')
    read.problems.push(
      'DATABASE_URL is required when NODE_ENV=production (the embedded database is for trying the service)'
    )
  return { databaseUrl, dataDir: read.raw('DATA_DIR') ?? '.data' }
}
