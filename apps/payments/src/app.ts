import fastifyRedis from '@fastify/redis'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'
import { openDatabase, type Database } from './db/database.js'
import { registerOpenApi } from './openapi.js'
import { installProblemHandlers } from './problem.js'
import { createRedisClient } from './redis-client.js'
import { healthRoutes } from './routes/health.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    database: Database
  }
}

export interface BuildOptions {
  /** Pino logger options, or false to log nothing (tests). Default: `config.logLevel`. */
  logger?: boolean | { level: string }
}

/**
 * Builds the service without listening: tests drive it with `inject()` and server.ts
 * adds the socket, signals and graceful shutdown. The database is migrated here, under
 * an advisory lock, so several instances may start at once.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: 64 * 1024,
    forceCloseConnections: 'idle',
    requestTimeout: 30_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } }
  }).withTypeProvider<TypeBoxTypeProvider>()

  installProblemHandlers(app)
  app.decorate('config', config)
  try {
    await registerEverything(app, config)
  } catch (err) {
    await app.close() // closes whatever was opened before the failure
    throw err
  }
  return app
}

async function registerEverything(app: FastifyInstance, config: Config): Promise<void> {
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
  app.decorate('database', database)
  app.addHook('onClose', () => database.close())
  await database.migrate()

  let redis: Redis | undefined
  if (config.redisUrl === undefined) {
    app.log.warn('REDIS_URL is not set: locks, idempotency records, rate limits and caches are in-process (single instance only)')
  } else {
    redis = createRedisClient(config.redisUrl)
    await app.register(fastifyRedis, { client: redis, closeClient: true })
  }

  await registerOpenApi(app)
  await app.register(healthRoutes, { database, redis })
}
