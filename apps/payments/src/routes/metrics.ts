import type { FastifyInstance } from 'fastify'
import type { ServiceMetrics } from '../metrics.js'

/** Prometheus exposition for the operator: the admin token, like every operator route. */
export async function metricsRoutes(
  app: FastifyInstance,
  { metrics }: { metrics: ServiceMetrics }
): Promise<void> {
  app.get(
    '/metrics',
    {
      config: { access: 'admin', rateLimit: false },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (operator only)',
        security: [{ bearer: [] }]
      }
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  )
}
