import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { loadCurrentCatalog, saveCatalogVersion, seedMissingCatalogs } from '../catalogs/catalog-store.js'
import { isProvider, PROVIDERS, readFeed, type Provider } from '../catalogs/feed.js'
import { CatalogFeedUnavailable, NotFound } from '../errors.js'
import { withProblems } from './schemas.js'

const ProviderParams = Type.Object({ provider: Type.String({ examples: ['flash', 'easypay'] }) })

const Product = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    category: Type.String(),
    currency: Type.String(),
    amount: Type.Optional(Type.Integer()),
    minAmount: Type.Optional(Type.Integer()),
    maxAmount: Type.Optional(Type.Integer()),
    province: Type.Optional(Type.String())
  },
  { additionalProperties: true }
)

const Catalog = Type.Object({
  provider: Type.String(),
  version: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
  products: Type.Array(Product)
})

/**
 * Catalogs are served from the catalog cache (memory, then Redis, then Postgres); only a
 * cache miss anywhere reads Postgres, and never the provider feed. A refresh reads the feed,
 * stores a new version and reloads the cache on every instance.
 */
export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.database.db
  const sourceDir = app.config.catalogSourceDir
  await seedMissingCatalogs(db, sourceDir)

  for (const provider of PROVIDERS) {
    app.catalogCache.define(provider, {
      load: async () => {
        const catalog = await app.database.bounded(loadCurrentCatalog(db, provider))
        /* c8 ignore next -- seeding at start-up stores a version of every provider */
        if (catalog === undefined) throw new Error(`no ${provider} catalog has been stored`)
        return catalog
      }
    })
  }
  const unknownProvider = (provider: string) =>
    new NotFound(`No catalog for provider '${provider}' (known: ${PROVIDERS.join(', ')})`)

  app.get(
    '/v1/catalog/:provider',
    {
      config: { access: 'public', catalogCache: (request) => providerOf(request.params) },
      schema: {
        tags: ['catalogs'],
        summary: 'A provider catalog (cached; ETag, Cache-Control, Cache-Status, 304 on If-None-Match)',
        params: ProviderParams,
        response: withProblems({ 200: Catalog }, 404)
      }
    },
    async (request) => {
      // The catalog cache answers every known provider before this handler runs.
      throw unknownProvider(request.params.provider)
    }
  )

  app.post(
    '/v1/catalog/:provider/refresh',
    {
      config: { access: 'admin', idempotency: false },
      schema: {
        tags: ['catalogs'],
        summary:
          'Re-read the provider feed, store it as the current version and reload every instance (operator only)',
        security: [{ bearer: [] }],
        params: ProviderParams,
        response: withProblems(
          { 200: Type.Object({ provider: Type.String(), version: Type.String(), count: Type.Integer() }) },
          401,
          403,
          404,
          502
        )
      }
    },
    async (request) => {
      const provider = providerOf(request.params)
      if (provider === undefined) throw unknownProvider(request.params.provider)
      // readFeed throws only CatalogFeedError (missing, unreadable, invalid): the current
      // version keeps being served and the operator learns what is wrong with the feed.
      const feed = await readFeed(provider, sourceDir).catch((error: Error) => {
        // The operator reads the details (file path, problems) in the log, not in the answer.
        request.log.error({ err: error, provider }, 'catalog feed cannot be used')
        throw new CatalogFeedUnavailable(provider)
      })
      const saved = await app.database.bounded(saveCatalogVersion(db, feed))
      await app.catalogCache.refresh(provider)
      return { provider, version: saved.version, count: saved.count }
    }
  )
}

function providerOf(params: unknown): Provider | undefined {
  const provider = (params as { provider: string }).provider
  return isProvider(provider) ? provider : undefined
}
