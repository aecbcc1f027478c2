import type { FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler, RouteOptions } from 'fastify'
import type { CatalogCache } from './catalog-cache.js'
import type { CatalogResult } from './result.js'
import { fail, type ResolvedOptions } from './options.js'

/** Route config: a catalog name, or a function choosing one per request (undefined → the route's handler runs). */
export type CatalogRouteSelector = string | ((request: FastifyRequest) => string | undefined)

/** The result a reply was answered with, read by the onSend hook to decorate the headers. */
export const kCatalogResult = Symbol('catalogCacheResult')

type CatalogReply = FastifyReply & { [kCatalogResult]?: CatalogResult }

/**
 * The HTTP side: routes with `config.catalogCache` are answered in their own onRequest hook
 * (after every app-level onRequest hook such as rate limiting) with the cached bytes or a
 * 304, so neither the handler nor serialization runs; onSend adds ETag, Cache-Control and
 * Cache-Status to every 2xx/304 answered from the cache, `reply.catalog()` included.
 */
export function catalogHttp(cache: CatalogCache, options: ResolvedOptions) {
  const onSend: onSendHookHandler = function (_request, reply, payload, done) {
    const result = (reply as CatalogReply)[kCatalogResult]
    const status = reply.statusCode
    if (result !== undefined && (status === 304 || (status >= 200 && status < 300))) {
      reply.header('etag', result.etag)
      reply.header('cache-control', result.cacheControl)
      reply.header('cache-status', result.cacheStatus)
    }
    done(null, payload)
  }

  const onRoute = (route: RouteOptions): void => {
    const selector = (route.config as { catalogCache?: unknown } | undefined)?.catalogCache
    if (selector === undefined) return
    const where = `route ${String(route.method)} ${route.url}`
    if (typeof selector !== 'string' && typeof selector !== 'function') fail(`${where}: config.catalogCache must be a catalog name or a function returning one`)
    if (![route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) fail(`${where}: catalog routes answer GET and HEAD only`)
    if (options.isPrivateRoute(route)) fail(`${where} needs authentication, but catalog responses are public and answered before the handler; serve it without config.catalogCache`)
    route.onRequest = [...[route.onRequest ?? []].flat(), answerFromCache(selector as CatalogRouteSelector)]
  }

  const answerFromCache = (selector: CatalogRouteSelector): onRequestHookHandler => {
    const select = typeof selector === 'string' ? () => selector : selector
    return function (request, reply, done) {
      let name: string | undefined
      let cached: CatalogResult | undefined
      try {
        name = select(request)
        if (name === undefined) return done()
        cached = cache.peek(name)
      } catch (error) {
        return done(error as Error)
      }
      if (cached !== undefined) return send(request, reply, cached)
      // Not a plain L1 answer: rare enough to log (debug) which tier answered
      cache.get(name).then((result) => {
        request.log.debug({ catalog: name, state: result.state, tier: result.tier, version: result.version }, 'catalog cache answer')
        send(request, reply, result)
      }, (error: Error) => done(withRetryAfter(reply, error)))
    }
  }

  /** `reply.catalog(name)`: answers a GET/HEAD with the catalog, exactly as a `config.catalogCache` route would. */
  async function catalog(this: FastifyReply, name: string): Promise<FastifyReply> {
    if (this.request.method !== 'GET' && this.request.method !== 'HEAD') fail(`reply.catalog() answers GET and HEAD only, not ${this.request.method}`)
    try {
      send(this.request, this, await cache.get(name))
    } catch (error) {
      throw withRetryAfter(this, error as Error)
    }
    return this
  }

  return { onRoute, onSend, catalog }
}

function send(request: FastifyRequest, reply: FastifyReply, result: CatalogResult): void {
  (reply as CatalogReply)[kCatalogResult] = result
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

function withRetryAfter(reply: FastifyReply, error: Error): Error {
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
  return error
}
