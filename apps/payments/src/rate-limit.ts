import type { RateLimitPluginOptions } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { Config } from './config.js'

/**
 * Per API key (per IP when anonymous), shared by every instance through Redis. If Redis is
 * unreachable the limit is skipped rather than failing requests: money routes are protected
 * by their own fail-closed plugins, and reads should keep working.
 */
export function rateLimitOptions(config: Config, redis: Redis | undefined): RateLimitPluginOptions {
  return {
    global: true,
    max: config.rateLimitMax,
    timeWindow: '1 minute',
    nameSpace: `${config.redisKeyPrefix}rate-limit:`,
    skipOnError: true,
    ...(redis === undefined ? {} : { redis }),
    keyGenerator: (request) => request.principal === null ? `ip:${request.ip}` : `principal:${request.principal.id}`,
    errorResponseBuilder: (_request, context) => Object.assign(new Error(`Rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`), {
      statusCode: 429,
      code: 'RATE_LIMITED'
    })
  }
}
