import t from 'tap'
import { ConfigError, loadConfig, loadDatabaseConfig } from '../src/config.js'

const OPERATOR_TOKEN = 'f3a9c1d07e5b28c4a6f1e09d7b3c5a81'

t.test('defaults: embedded database, in-process stores, a generated admin token', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    databaseUrl: undefined,
    redisUrl: undefined,
    redisKeyPrefix: 'moolah:',
    adminTokenGenerated: true,
    logLevel: 'info',
    lockWaitMs: 2000,
    idempotencyTtlSeconds: 86_400,
    rateLimitMax: 600,
    rateLimitTransfersMax: 120,
    rateLimitIpv6Prefix: 56,
    supportedCurrencies: ['ZAR', 'USD'],
    catalogSourceDir: undefined,
    catalogTtlSeconds: 300,
    dataDir: '.data',
    trustProxy: false,
    shutdownGraceMs: 47_000,
    providerUrl: undefined,
    providerTimeoutMs: 5000,
    sandboxDelayMs: 5000,
    purchaseSettleMaxSeconds: 120
  })
  t.ok(config.adminToken.length >= 32)
  t.not(loadConfig({}).adminToken, config.adminToken, 'a new token per run')
  t.equal(loadConfig({ CATALOG_SOURCE_DIR: '' }).catalogSourceDir, undefined, 'empty means the bundled feeds')
})

t.test('reads every variable', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://u@db:5432/payments',
    REDIS_URL: 'redis://cache:6379',
    REDIS_KEY_PREFIX: 'staging:',
    ADMIN_TOKEN: OPERATOR_TOKEN,
    LOG_LEVEL: 'debug',
    LOCK_WAIT_MS: '0',
    IDEMPOTENCY_TTL_SECONDS: '3600',
    RATE_LIMIT_MAX: '10',
    RATE_LIMIT_TRANSFERS_MAX: '5',
    RATE_LIMIT_IPV6_PREFIX: '64',
    SUPPORTED_CURRENCIES: 'ZAR, EUR,ZAR',
    CATALOG_SOURCE_DIR: '/feeds',
    CATALOG_TTL_SECONDS: '60',
    DATA_DIR: '/tmp/x',
    TRUST_PROXY: '10.0.0.0/8',
    SHUTDOWN_GRACE_MS: '60000',
    PROVIDER_URL: 'http://sandbox:4010',
    PROVIDER_TIMEOUT_MS: '2500',
    SANDBOX_DELAY_MS: '250',
    PURCHASE_SETTLE_MAX_SECONDS: '30'
  })
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    databaseUrl: 'postgres://u@db:5432/payments',
    redisUrl: 'redis://cache:6379',
    redisKeyPrefix: 'staging:',
    adminToken: OPERATOR_TOKEN,
    adminTokenGenerated: false,
    logLevel: 'debug',
    lockWaitMs: 0,
    idempotencyTtlSeconds: 3600,
    rateLimitMax: 10,
    rateLimitTransfersMax: 5,
    rateLimitIpv6Prefix: 64,
    supportedCurrencies: ['ZAR', 'EUR'],
    catalogSourceDir: '/feeds',
    catalogTtlSeconds: 60,
    dataDir: '/tmp/x',
    trustProxy: ['10.0.0.0/8'],
    shutdownGraceMs: 60_000,
    providerUrl: 'http://sandbox:4010',
    providerTimeoutMs: 2500,
    sandboxDelayMs: 250,
    purchaseSettleMaxSeconds: 30
  })
})

t.test('the shutdown grace period outlasts the longest lock wait by default', async (t) => {
  t.equal(loadConfig({ LOCK_WAIT_MS: '60000' }).shutdownGraceMs, 105_000)
})

t.test('lists every problem at once, in words an operator can act on', async (t) => {
  const error = t.throws(() =>
    loadConfig({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db/x',
      REDIS_URL: 'not a url',
      LOG_LEVEL: 'loud',
      LOCK_WAIT_MS: '-1',
      SUPPORTED_CURRENCIES: 'rand',
      TRUST_PROXY: '2',
      SHUTDOWN_GRACE_MS: 'soon',
      PROVIDER_URL: 'ftp://sandbox',
      PROVIDER_TIMEOUT_MS: '0',
      PURCHASE_SETTLE_MAX_SECONDS: 'never',
      RATE_LIMIT_IPV6_PREFIX: '24'
    })
  ) as ConfigError
  t.type(error, ConfigError)
  t.same(error.problems, [
    'DATABASE_URL must start with postgres:// or postgresql://, got "mysql://…"',
    'REDIS_URL is not a valid URL',
    'ADMIN_TOKEN is required when DATABASE_URL is set (use a long random secret, e.g. `openssl rand -hex 32`)',
    'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    'SUPPORTED_CURRENCIES must be a comma-separated list of ISO 4217 codes such as "ZAR,USD", got "rand"',
    'LOCK_WAIT_MS must be a whole number from 0 to 60000, got "-1"',
    'PORT must be a whole number from 0 to 65535, got "eighty"',
    'RATE_LIMIT_IPV6_PREFIX must be a whole number from 32 to 128, got "24"',
    'TRUST_PROXY must be true, false, or a comma-separated list of the proxies\' IP addresses, CIDR ranges or loopback/linklocal/uniquelocal (not a hop count), got "2"',
    'SHUTDOWN_GRACE_MS must be a whole number from 1 to 3600000, got "soon"',
    'PROVIDER_URL must start with http:// or https://, got "ftp://…"',
    'PROVIDER_TIMEOUT_MS must be a whole number from 1 to 60000, got "0"',
    'PURCHASE_SETTLE_MAX_SECONDS must be a whole number from 1 to 604800, got "never"'
  ])
  t.match(error.message, /^Invalid configuration:\n {2}- DATABASE_URL/)
})

t.test('with NODE_ENV=production, a missing DATABASE_URL is refused rather than run on PGlite', async (t) => {
  const problem =
    'DATABASE_URL is required when NODE_ENV=production (the embedded database is for trying the service)'
  const serve = t.throws(() =>
    loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: OPERATOR_TOKEN })
  ) as ConfigError
  t.same(serve.problems, [problem])
  const migrate = t.throws(() => loadDatabaseConfig({ NODE_ENV: 'production' })) as ConfigError
  t.same(migrate.problems, [problem], 'pnpm db:migrate too')
  t.equal(
    loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/x', ADMIN_TOKEN: OPERATOR_TOKEN })
      .databaseUrl,
    'postgres://db/x'
  )
  t.equal(loadConfig({ NODE_ENV: 'development' }).databaseUrl, undefined, 'embedded outside production')
})

t.test('a placeholder admin token is refused, in embedded mode too', async (t) => {
  t.throws(
    () => loadConfig({ ADMIN_TOKEN: 'change-me-to-a-long-random-secret' }),
    /ADMIN_TOKEN must be a random secret of at least 32 characters .*; this one contains "change"/
  )
  t.throws(
    () => loadConfig({ DATABASE_URL: 'postgres://db/x', ADMIN_TOKEN: 'short' }),
    /ADMIN_TOKEN must be a random secret/
  )
})

t.test('an empty currency list is refused', async (t) => {
  t.throws(() => loadConfig({ SUPPORTED_CURRENCIES: ' , ' }), /SUPPORTED_CURRENCIES must be/)
})

t.test('pnpm db:migrate reads the database settings only: no admin token needed', async (t) => {
  t.same(loadDatabaseConfig({ DATABASE_URL: 'postgres://u@db:5432/payments' }), {
    databaseUrl: 'postgres://u@db:5432/payments',
    dataDir: '.data'
  })
  t.same(loadDatabaseConfig({ DATA_DIR: '/srv/data', PORT: 'ignored', LOG_LEVEL: 'ignored' }), {
    databaseUrl: undefined,
    dataDir: '/srv/data'
  })
  const error = t.throws(() => loadDatabaseConfig({ DATABASE_URL: 'mysql://db/x' })) as ConfigError
  t.same(error.problems, ['DATABASE_URL must start with postgres:// or postgresql://, got "mysql://…"'])
})
