import fastifyRateLimit from '@fastify/rate-limit'
import fastifyRedis from '@fastify/redis'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { catalogCache } from '@moolah/fastify-catalog-cache'
import { idempotency } from '@moolah/fastify-idempotency'
import { walletLock } from '@moolah/fastify-wallet-lock'
import Fastify, { type FastifyContextConfig, type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import authenticate, { accessOf } from './auth/authenticate.js'
import type { Config } from './config.js'
import { openDatabase, type Database } from './db/database.js'
import { checkDependencies } from './dependency-checks.js'
import { ServiceMetrics } from './metrics.js'
import { registerOpenApi } from './openapi.js'
import { loggerOptions, logController, type LogDestination } from './logging.js'
import { installProblemHandlers, sendFrameworkProblem } from './problem.js'
import { rateLimitOptions, unauthenticatedLimit } from './rate-limit.js'
import { createRedisClient } from './redis-client.js'
import { chooseProvider } from './purchases/provider-choice.js'
import type { ProviderPort } from './purchases/provider-port.js'
import { Settler } from './purchases/settler.js'
import { echoRequestId, requestIdOf } from './request-id.js'
import { observeRequests } from './request-observer.js'
import { catalogRoutes } from './routes/catalogs.js'
import { depositRoutes } from './routes/deposits.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { purchaseRoutes } from './routes/purchases.js'
import { transferRoutes } from './routes/transfers.js'
import { principalId } from './routes/request-context.js'
import { userRoutes } from './routes/users.js'
import { walletRoutes } from './routes/wallets.js'
import { installValidators } from './validation.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
  }
}

/**
 * How long an API key's principal (or the absence of one) is remembered in process. Keys are
 * never changed or revoked today; when revocation arrives, this is how long a revoked key lives on.
 */
const API_KEY_CACHE_TTL_MS = 60_000
/** How often each instance's settler looks for pending purchases that are due. */
const SETTLER_INTERVAL_MS = 500

export interface BuildOptions {
  /** The log level (default `config.logLevel`) and where lines go (default stdout), or false to log nothing (tests). */
  logger?: false | { level?: string; stream?: LogDestination }
  /**
   * The product provider of purchases, closed by whoever made it. Default: chosen from the
   * config (provider-choice.ts), closed when the app closes.
   */
  provider?: ProviderPort
}

/**
 * Builds the service without listening: tests drive it with `inject()` and server.ts
 * adds the socket, signals and graceful shutdown. The database is migrated here, under
 * an advisory lock, so several instances may start at once.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : loggerOptions(options.logger?.level ?? config.logLevel, options.logger?.stream),
    logController,
    genReqId: requestIdOf,
    bodyLimit: 64 * 1024,
    forceCloseConnections: 'idle',
    trustProxy: config.trustProxy,
    requestTimeout: 30_000,
    // Opaque ids longer than Fastify's default of 100 must reach the routes (and be 404s).
    routerOptions: { maxParamLength: 2048 },
    frameworkErrors: sendFrameworkProblem
  }).withTypeProvider<TypeBoxTypeProvider>()
  // JSON routes only: any other media type is 415, including the text/plain Fastify parses by default.
  app.removeContentTypeParser('text/plain')

  installValidators(app)
  echoRequestId(app)
  installProblemHandlers(app)
  app.decorate('config', config)
  try {
    await registerEverything(app, config, options.provider)
  } catch (err) {
    await app.close() // closes whatever was opened before the failure
    throw err
  }
  return app
}

/**
 * The request path of a money route, by hook:
 *   onRequest   authenticate (admin token or cached API key from memory; anything else is
 *               first counted per client address, then looked up), then the rate limit
 *   preHandler  idempotency claim (needs the principal and the parsed body), then the debited
 *               wallet's lock (after its owner was checked)
 *   handler     one ledger statement (row locks in id order, balance re-check, unique key)
 *   onSend      idempotency commit (awaited before the response leaves), lock release
 */
async function registerEverything(
  app: FastifyInstance,
  config: Config,
  givenProvider: ProviderPort | undefined
): Promise<void> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
  app.decorate('database', database)
  app.addHook('onClose', () => database.close())
  await database.migrate()

  let redis: Redis | undefined
  if (config.redisUrl === undefined) {
    app.log.warn(
      'REDIS_URL is not set: locks, idempotency records, rate limits and caches are in-process (single instance only)'
    )
  } else {
    redis = createRedisClient(config.redisUrl)
    // ioredis reconnects by itself; say so in the log rather than as an unhandled 'error' event.
    redis.on('error', (error: Error) => app.log.warn({ err: error }, 'Redis connection error; reconnecting'))
    await app.register(fastifyRedis, { client: redis, closeClient: true })
  }
  const prefix = config.redisKeyPrefix
  const metrics = new ServiceMetrics(() => checkDependencies(database, redis))
  observeRequests(app, metrics)

  await app.register(fastifyRateLimit, rateLimitOptions(config, redis))
  await app.register(authenticate, {
    database,
    adminToken: config.adminToken,
    cacheTtlMs: API_KEY_CACHE_TTL_MS,
    limitByAddress: unauthenticatedLimit(app, config)
  })
  await app.register(idempotency, {
    prefix: `${prefix}idempotency:`,
    ttlSeconds: config.idempotencyTtlSeconds,
    // Keys belong to the authenticated principal: one user's key never meets another's.
    scope: principalId,
    onEvent: metrics.onIdempotencyEvent
  })
  await app.register(walletLock, {
    prefix: `${prefix}wallet-lock:`,
    waitMs: config.lockWaitMs,
    onEvent: metrics.onLockEvent
  })
  await app.register(catalogCache, {
    prefix: `${prefix}catalog:`,
    ttl: config.catalogTtlSeconds,
    // Asked only of routes with a catalogCache config, so config is always there.
    isPrivateRoute: (route) => accessOf(route.config as FastifyContextConfig) !== 'public',
    onEvent: metrics.onCatalogEvent
  })

  // After the plugins (their request decorations must exist before any child context is
  // made) and before the routes (swagger collects routes as they are added).
  await registerOpenApi(app)
  await app.register(healthRoutes, { database, redis })
  await app.register(metricsRoutes, { metrics })
  await app.register(userRoutes)
  await app.register(walletRoutes)
  await app.register(depositRoutes)
  await app.register(transferRoutes)
  await app.register(catalogRoutes)

  let provider = givenProvider
  if (provider === undefined) {
    const chosen = chooseProvider(config)
    app.addHook('onClose', () => chosen.close())
    provider = chosen
  }
  await app.register(purchaseRoutes, { provider })
  // Every instance settles what requests could not (onClose hooks run last-added first: the
  // settler stops before the lock manager, the provider and the database it uses close).
  const settler = new Settler({
    database,
    provider,
    locks: app.walletLock,
    log: app.log.child({ component: 'settler' }),
    providerTimeoutMs: config.providerTimeoutMs,
    settleMaxSeconds: config.purchaseSettleMaxSeconds,
    intervalMs: SETTLER_INTERVAL_MS
  })
  app.addHook('onReady', async () => settler.start())
  app.addHook('onClose', () => settler.stop())
}
