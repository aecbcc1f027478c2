import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Database } from '../db/database.js'
import { checkDependencies } from '../dependency-checks.js'

const CheckStatus = Type.Union([Type.Literal('ok'), Type.Literal('down')])
/** Embedded mode has no Redis to check; that is not a reason to be unready. */
const OptionalCheckStatus = Type.Union([
  Type.Literal('ok'),
  Type.Literal('down'),
  Type.Literal('not-configured')
])

export interface HealthDependencies {
  database: Database
  /** Absent in single-instance mode, where every store is in-process and always available. */
  redis: Redis | undefined
}

export async function healthRoutes(
  app: FastifyInstance,
  { database, redis }: HealthDependencies
): Promise<void> {
  app.get(
    '/health/live',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) }
      }
    },
    async () => ({ status: 'ok' as const })
  )

  const Ready = Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Object({ postgres: CheckStatus, redis: OptionalCheckStatus }),
    mode: Type.Object({
      database: Type.Union([Type.Literal('postgres'), Type.Literal('pglite')]),
      stores: Type.Union([Type.Literal('redis'), Type.Literal('in-process')])
    })
  })
  app.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Postgres and Redis answer',
        description:
          '503 with the failing check marked "down" while a dependency is unreachable; recovers by itself. Without REDIS_URL, redis is "not-configured".',
        response: { 200: Ready, 503: Ready }
      }
    },
    async (_request, reply) => {
      const checks = await checkDependencies(database, redis)
      const healthy = checks.postgres === 'ok' && checks.redis !== 'down'
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'unavailable',
        checks,
        mode: { database: database.kind, stores: redis === undefined ? 'in-process' : 'redis' }
      })
    }
  )
}
