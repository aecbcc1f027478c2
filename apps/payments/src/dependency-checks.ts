import type { Redis } from 'ioredis'
import type { Database } from './db/database.js'
import { withTimeout } from './with-timeout.js'

const CHECK_TIMEOUT_MS = 1000

export type CheckStatus = 'ok' | 'down'

export interface DependencyStatus {
  postgres: CheckStatus
  /** `not-configured` without REDIS_URL: every store is in-process, nothing to reach. */
  redis: CheckStatus | 'not-configured'
}

/** Whether Postgres and Redis answer a trivial command within a second: for readiness and metrics. */
export async function checkDependencies(database: Database, redis: Redis | undefined): Promise<DependencyStatus> {
  const [postgres, redisStatus] = await Promise.all([
    check(() => database.ping(CHECK_TIMEOUT_MS)),
    redis === undefined ? 'not-configured' as const : check(() => withTimeout(redis.ping(), CHECK_TIMEOUT_MS))
  ])
  return { postgres, redis: redisStatus }
}

async function check(probe: () => Promise<unknown>): Promise<CheckStatus> {
  try {
    await probe()
    return 'ok'
  } catch {
    return 'down'
  }
}
