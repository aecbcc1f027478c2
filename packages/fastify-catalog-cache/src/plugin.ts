import { selectStore, setRetryAfter } from '@moolah/plugin-kit'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  onSendHookHandler,
  RouteOptions
} from 'fastify'
import fp from 'fastify-plugin'
import { CatalogCache } from './catalog-cache.js'
import { PLUGIN, resolveOptions, type CatalogCacheOptions } from './options.js'
import type { CatalogResult } from './result.js'
import { MemoryCatalogCacheStore } from './stores/memory.js'
import { RedisCatalogCacheStore } from './stores/redis.js'
import { STORE_METHODS, type CatalogCacheStore } from './stores/store.js'

/** Route config: a catalog name, or a function choosing one per request (undefined → the route's handler runs). */
export type CatalogRouteSelector = string | ((request: FastifyRequest) => string | undefined)

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

/** The result a reply was answered with, read by the onSend hook to decorate the headers. */
export const kCatalogResult = Symbol('catalogCacheResult')

type CatalogReply = FastifyReply & { [kCatalogResult]?: CatalogResult }

// Registration waits this long for the invalidation subscriber; after that it keeps trying in the background
const SUBSCRIBE_WAIT_MS = 2000

async function catalogCachePlugin(fastify: FastifyInstance, options: CatalogCacheOptions): Promise<void> {
  const resolved = resolveOptions(options)
  const store = selectStore<CatalogCacheStore>(fastify, options, {
    plugin: PLUGIN,
    name: 'CatalogCacheStore',
    methods: STORE_METHODS,
    memory: () => new MemoryCatalogCacheStore(),
    redis: (redis) => new RedisCatalogCacheStore(redis)
  })
  const cache = new CatalogCache(store, resolved, fastify.log)
  fastify.decorate('catalogCache', cache)
  fastify.decorateReply(kCatalogResult, undefined)
  fastify.decorateReply('catalog', replyCatalog)
  fastify.addHook('onRoute', (route) => serveFromCache(route, resolved.isPrivateRoute))
  fastify.addHook('onSend', addCacheHeaders)
  const subscription = cache.listen()
  await subscription.subscribed(SUBSCRIBE_WAIT_MS)
  fastify.addHook('onClose', () => subscription.close())
}

export const catalogCache = fp(catalogCachePlugin, { name: PLUGIN, fastify: '5.x' })

/**
 * onRoute: a GET/HEAD route with `config.catalogCache` gets `answerFromCache` as its last
 * onRequest hook (after every app-level onRequest hook such as rate limiting), so neither the
 * handler nor serialization runs for a cached answer.
 */
function serveFromCache(route: RouteOptions, isPrivateRoute: (route: RouteOptions) => boolean): void {
  const selector = (route.config as { catalogCache?: unknown } | undefined)?.catalogCache
  if (selector === undefined) return
  const where = `route ${String(route.method)} ${route.url}`
  if (typeof selector !== 'string' && typeof selector !== 'function')
    fail(`${where}: config.catalogCache must be a catalog name or a function returning one`)
  if (![route.method].flat().every((method) => method === 'GET' || method === 'HEAD'))
    fail(`${where}: catalog routes answer GET and HEAD only`)
  if (isPrivateRoute(route))
    fail(
      `${where} needs authentication, but catalog responses are public and answered before the handler; serve it without config.catalogCache`
    )
  route.onRequest = [...[route.onRequest ?? []].flat(), answerFromCache(selector as CatalogRouteSelector)]
}

/** onRequest of a catalog route: an L1 copy at once, else the cache's answer; undefined from the selector lets the handler run. */
function answerFromCache(selector: CatalogRouteSelector): onRequestHookHandler {
  const select = typeof selector === 'string' ? () => selector : selector
  return function (request, reply, done) {
    let name: string | undefined
    let cached: CatalogResult | undefined
    try {
      name = select(request)
      if (name === undefined) return done()
      cached = this.catalogCache.peek(name)
    } catch (error) {
      return done(error as Error)
    }
    if (cached !== undefined) return send(request, reply, cached)
    // Not a plain L1 answer: rare enough to log (debug) which tier answered
    this.catalogCache.get(name).then(
      (result) => {
        request.log.debug(
          { catalog: name, state: result.state, tier: result.tier, version: result.version },
          'catalog cache answer'
        )
        send(request, reply, result)
      },
      (error: Error) => done(setRetryAfter(reply, error))
    )
  }
}

/** `reply.catalog(name)` in a handler: answers a GET/HEAD with the catalog, exactly as a `config.catalogCache` route would. */
async function replyCatalog(this: FastifyReply, name: string): Promise<FastifyReply> {
  if (this.request.method !== 'GET' && this.request.method !== 'HEAD')
    fail(`reply.catalog() answers GET and HEAD only, not ${this.request.method}`)
  try {
    send(this.request, this, await this.server.catalogCache.get(name))
  } catch (error) {
    throw setRetryAfter(this, error)
  }
  return this
}

/** The cached bytes, or 304 when If-None-Match matches; onSend adds the cache headers to either. */
function send(request: FastifyRequest, reply: FastifyReply, result: CatalogResult): void {
  ;(reply as CatalogReply)[kCatalogResult] = result
  if (etagMatches(request.headers['if-none-match'], result.etag)) {
    reply.code(304).send()
    return
  }
  reply.header('content-type', 'application/json; charset=utf-8').send(result.body)
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`, and `*` matches anything. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header === etag) return true
  return header.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)
  })
}

/** onSend: ETag, Cache-Control and Cache-Status on every 2xx/304 answered from the cache (`reply.catalog()` included). */
const addCacheHeaders: onSendHookHandler = function (_request, reply, payload, done) {
  const result = (reply as CatalogReply)[kCatalogResult]
  const status = reply.statusCode
  if (result !== undefined && (status === 304 || (status >= 200 && status < 300))) {
    reply.header('etag', result.etag)
    reply.header('cache-control', result.cacheControl)
    reply.header('cache-status', result.cacheStatus)
  }
  done(null, payload)
}

function fail(message: string): never {
  throw new TypeError(`${PLUGIN}: ${message}`)
}
