import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** OpenAPI 3 generated from the route schemas: the UI at /docs, the document at /docs/json. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Moolah payments',
        version: '1.0.0',
        description:
          'Wallets, a double-entry ledger, deposits, transfers and provider catalogs. Money is an integer in minor units; errors are RFC 9457 problem documents with a `code`.'
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A user API key, or the operator ADMIN_TOKEN on admin routes.'
          }
        }
      }
    }
  })
  // The documentation is public; every other route is deny-by-default (auth/authenticate.ts).
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, access: 'public' }
    })
    await docs.register(swaggerUi, { routePrefix: '/docs' })
  })
}
