import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CatalogCache } from './catalog-cache.js'
import { catalogHttp, kCatalogResult, type CatalogRouteSelector } from './http.js'
import { resolveOptions, type CatalogCacheOptions } from './options.js'

declare module 'fastify' {
  interface FastifyInstance {
    catalogCache: CatalogCache
  }
  interface FastifyReply {
    /** Sends the catalog with ETag, Cache-Control and Cache-Status (304 when If-None-Match matches). GET/HEAD only. */
    catalog(name: string): Promise<FastifyReply>
  }
  interface FastifyContextConfig {
    /** Answer this GET route from the catalog cache. A function may return undefined to let the handler run. */
    catalogCache?: CatalogRouteSelector
  }
}

// Registration waits this long for the invalidation subscriber; after that it keeps trying in the background
const SUBSCRIBE_WAIT_MS = 2000

async function catalogCachePlugin(fastify: FastifyInstance, options: CatalogCacheOptions): Promise<void> {
  const resolved = resolveOptions(fastify, options)
  const cache = new CatalogCache(resolved, (message, error) => fastify.log.warn({ err: error }, message))
  const http = catalogHttp(cache, resolved)
  fastify.decorate('catalogCache', cache)
  fastify.decorateReply(kCatalogResult, undefined)
  fastify.decorateReply('catalog', http.catalog)
  fastify.addHook('onRoute', http.onRoute)
  fastify.addHook('onSend', http.onSend)
  const unsubscribe = await cache.listen(SUBSCRIBE_WAIT_MS)
  fastify.addHook('onClose', async () => {
    await unsubscribe()
  })
}

export const catalogCache = fp(catalogCachePlugin, { name: '@moolah/fastify-catalog-cache', fastify: '5.x' })
