import { normalizeIP, type RateLimitPluginOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'

const WINDOW = '1 minute'

/**
 * The client as the limits count it: an IPv6 client is given a whole network (a /64 at least,
 * usually a /56 or a /48) and could rotate through its addresses, so it is counted by its
 * network, `ipv6Prefix` bits; IPv4 per address, and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as that
 * IPv4 address. @fastify/rate-limit's default key does the same (with /64), but only when no
 * keyGenerator is given. A request whose socket is already gone has no address.
 */
export const clientAddress = (request: FastifyRequest, ipv6Prefix: number): string =>
  request.ip === undefined ? 'unknown' : normalizeIP(request.ip, ipv6Prefix)

function rateLimited(max: number, window: string, retryAfterSeconds: number): Error {
  return Object.assign(
    new Error(`Rate limit of ${max} requests per ${window} exceeded; retry in ${retryAfterSeconds} s`),
    { statusCode: 429, code: 'RATE_LIMITED' }
  )
}

/**
 * Per API key (per client address when anonymous), shared by every instance through Redis.
 * If Redis is unreachable the limit is skipped rather than failing requests: money routes are
 * protected by their own fail-closed plugins, and reads should keep working.
 */
export function rateLimitOptions(config: Config, redis: Redis | undefined): RateLimitPluginOptions {
  return {
    global: true,
    max: config.rateLimitMax,
    timeWindow: WINDOW,
    nameSpace: `${config.redisKeyPrefix}rate-limit:`,
    skipOnError: true,
    ...(redis === undefined ? {} : { redis }),
    keyGenerator: (request) =>
      request.principal === null
        ? `ip:${clientAddress(request, config.rateLimitIpv6Prefix)}`
        : `principal:${request.principal.id}`,
    errorResponseBuilder: (_request, context) =>
      rateLimited(context.max, context.after, Math.ceil(context.ttl / 1000))
  }
}

/**
 * Requests without valid credentials in memory (none, malformed, wrong, or a key not yet
 * cached), counted per client address in a bucket of their own: they are refused or looked up
 * only within this budget, so guessing keys or the admin token is throttled and a flood of
 * wrong keys never reaches Postgres. (A check, not a second route limiter: @fastify/rate-limit
 * runs one limiter per request, and the route's own limit must still count the request.)
 */
export function unauthenticatedLimit(
  app: FastifyInstance,
  config: Config
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const check = app.createRateLimit({
    max: config.rateLimitMax,
    timeWindow: WINDOW,
    keyGenerator: (request) => `unauthenticated:${clientAddress(request, config.rateLimitIpv6Prefix)}`
  })
  return async (request, reply) => {
    const result = await check(request)
    if (result.isAllowed || !result.isExceeded) return
    reply
      .header('x-ratelimit-limit', result.max)
      .header('x-ratelimit-remaining', 0)
      .header('x-ratelimit-reset', result.ttlInSeconds)
      .header('retry-after', result.ttlInSeconds)
    throw rateLimited(result.max, WINDOW, result.ttlInSeconds)
  }
}
