import { freshDatabase, type RedisPrefix, redisPrefix, type Teardown } from '@moolah/test-utils'
import type { FastifyInstance } from 'fastify'
import type { BuildOptions } from '../../src/app.js'
import type { Db } from '../../src/db/database.js'
import { Api } from './api.js'
import { startApp } from './app.js'

export interface Instances {
  /** What the three were started with, to start another like them. */
  env: Record<string, string>
  /** Their Redis and key prefix, to reach into what they keep there. */
  redis: RedisPrefix
  apps: FastifyInstance[]
  /** One client per instance, in the order of `apps`. */
  apis: Api[]
  /** The first instance's client and database. */
  api: Api
  db: Db
}

/**
 * Three instances on one fresh Postgres database and one Redis key prefix, as a deployment runs
 * them behind a load balancer; closed at teardown. A wallet is waited for up to 5 s and the
 * general rate limit is out of reach, so what decides a storm of requests is the ledger, the
 * locks and the idempotency keys. `env` adds to (or overrides) that environment.
 */
export async function startInstances(
  t: Teardown,
  env: Record<string, string> = {},
  options: Omit<BuildOptions, 'logger'> = {}
): Promise<Instances> {
  const redis = redisPrefix(t)
  const shared = {
    DATABASE_URL: await freshDatabase(t),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    LOCK_WAIT_MS: '5000',
    RATE_LIMIT_MAX: '100000',
    ...env
  }
  // One after another: instances starting at once are migrate.test.ts's subject.
  const apps: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) apps.push(await startApp(t, shared, options))
  const apis = apps.map((app) => new Api(app))
  return { env: shared, redis, apps, apis, api: apis[0] as Api, db: (apps[0] as FastifyInstance).database.db }
}
