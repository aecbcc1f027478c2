import { Timeouts } from '@moolah/plugin-kit'
import type { Redis } from 'ioredis'
import type { Database } from './db/database.js'

const CHECK_TIMEOUT_MS = 1000
const redisChecks = new Timeouts(CHECK_TIMEOUT_MS)

export type CheckStatus = 'ok' | 'down'

export interface DependencyStatus {
  postgres: CheckStatus
  /** `not-configured` without REDIS_URL: every store is in-process, nothing to reach. */
  redis: CheckStatus | 'not-configured'
}

/** Whether Postgres and Redis answer a trivial command within a second: for readiness and metrics. */
export async function checkDependencies(
  database: Database,
  redis: Redis | undefined
): Promise<DependencyStatus> {
  const [postgres, redisStatus] = await Promise.all([
    check(() => database.ping(CHECK_TIMEOUT_MS)),
    redis === undefined
      ? ('not-configured' as const)
      : check(() => redisChecks.run(redis.ping(), 'Redis PING'))
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
