export { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, databaseUrl, redisUrl } from './defaults.js'
export { freshDatabase } from './fresh-database.js'
export { freePort } from './free-port.js'
export { redisClient } from './redis-client.js'
export { redisPrefix, type RedisPrefix } from './redis-prefix.js'
export { startPostgres, type StartPostgresOptions, type ThrowawayPostgres } from './start-postgres.js'
export { startRedis, type StartRedisOptions, type ThrowawayRedis } from './start-redis.js'
export {
  startRedisCluster,
  type StartRedisClusterOptions,
  type ThrowawayRedisCluster
} from './start-redis-cluster.js'
export { Cleanup } from './cleanup.js'
export type { Teardown } from './teardown.js'
export { waitUntil } from './wait-until.js'
