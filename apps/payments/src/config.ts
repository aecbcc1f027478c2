import { randomBytes } from 'node:crypto'

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
  supportedCurrencies: string[]
  catalogSourceDir: string | undefined
  catalogTtlSeconds: number
  dataDir: string
}

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Reads and validates the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const value = Number(raw)
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
      return fallback
    }
    return value
  }
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = env[name]
    if (raw === undefined || raw === '') return undefined
    try {
      const parsed = new URL(raw)
      if (!protocols.includes(parsed.protocol)) problems.push(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${parsed.protocol}//…"`)
    } catch {
      problems.push(`${name} is not a valid URL`)
    }
    return raw
  }

  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:'])
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:'])

  let adminToken = env.ADMIN_TOKEN ?? ''
  const adminTokenGenerated = adminToken === '' && databaseUrl === undefined
  if (adminToken === '') {
    if (databaseUrl !== undefined) problems.push('ADMIN_TOKEN is required when DATABASE_URL is set (use a long random secret, e.g. `openssl rand -hex 32`)')
    adminToken = randomBytes(24).toString('base64url')
  } else if (adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters long')
  }

  const logLevel = env.LOG_LEVEL ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)

  const supportedCurrencies = (env.SUPPORTED_CURRENCIES ?? 'ZAR,USD').split(',').map((c) => c.trim()).filter((c) => c !== '')
  const badCurrencies = supportedCurrencies.filter((c) => !/^[A-Z]{3}$/.test(c))
  if (supportedCurrencies.length === 0 || badCurrencies.length > 0) {
    problems.push(`SUPPORTED_CURRENCIES must be a comma-separated list of ISO 4217 codes such as "ZAR,USD", got "${env.SUPPORTED_CURRENCIES}"`)
  }

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host: env.HOST ?? '127.0.0.1',
    databaseUrl,
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX ?? 'moolah:',
    adminToken,
    adminTokenGenerated,
    logLevel,
    lockWaitMs: int('LOCK_WAIT_MS', 2000, 0, 60_000),
    idempotencyTtlSeconds: int('IDEMPOTENCY_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    rateLimitMax: int('RATE_LIMIT_MAX', 600, 1, 1_000_000),
    rateLimitTransfersMax: int('RATE_LIMIT_TRANSFERS_MAX', 120, 1, 1_000_000),
    supportedCurrencies: [...new Set(supportedCurrencies)],
    catalogSourceDir: env.CATALOG_SOURCE_DIR === '' ? undefined : env.CATALOG_SOURCE_DIR,
    catalogTtlSeconds: int('CATALOG_TTL_SECONDS', 300, 1, 7 * 86_400),
    dataDir: env.DATA_DIR ?? '.data'
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return config
}
