import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Database } from '../db/database.js'
import { statement } from '../db/statement.js'
import { Forbidden, Unauthorized } from '../errors.js'
import { hashApiKey, looksLikeApiKey, secretsEqual } from './api-key.js'
import { PrincipalCache, type Principal } from './principal-cache.js'

export type { Principal } from './principal-cache.js'
/** Who may call a route; `public` needs no credentials. */
export type Access = 'public' | 'user' | 'admin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route. Default `user`: a route is public only when it says so. */
    access?: Access
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

export interface AuthenticateOptions {
  database: Database
  adminToken: string
  /** How long a key's principal (or its absence) is remembered in process. */
  cacheTtlMs: number
  /**
   * Counts a request against its client address and throws 429 past the limit: applied to
   * every request that has no valid credentials in memory, before it may cost a query.
   */
  limitByAddress: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
}

const USER_BY_KEY_HASH = statement<{ id: string }>('SELECT id FROM users WHERE api_key_hash = $1')

/**
 * Resolves the bearer token in `onRequest`, before the body is read, so unauthenticated
 * requests cost no parsing and later hooks (rate limit by principal, idempotency scope) can rely
 * on `request.principal`. A known key or the admin token costs no query; anything else (no
 * token, a malformed one, a key not in the cache) is first counted against its client address,
 * so a flood of wrong keys is refused with 429 before it reaches Postgres, and a malformed
 * token never does.
 */
async function authenticate(
  app: FastifyInstance,
  { database, adminToken, cacheTtlMs, limitByAddress }: AuthenticateOptions
): Promise<void> {
  const principals = new PrincipalCache({
    lookup: async (hash) => {
      const [user] = await database.run(USER_BY_KEY_HASH, [hash])
      return user === undefined ? null : { kind: 'user', id: user.id }
    },
    ttlMs: cacheTtlMs,
    maxEntries: 100_000
  })
  app.decorateRequest('principal', null)

  async function identify(request: FastifyRequest, reply: FastifyReply): Promise<Principal | null> {
    const token = bearerToken(request)
    if (token !== undefined && secretsEqual(token, adminToken)) return { kind: 'admin', id: 'admin' }
    // The key is looked up by its hash: the stored value is never compared to the secret.
    const hash = token !== undefined && looksLikeApiKey(token) ? hashApiKey(token) : undefined
    const cached = hash === undefined ? undefined : principals.cached(hash)
    if (cached != null) return cached
    await limitByAddress(request, reply)
    return hash === undefined || cached === null ? null : principals.resolve(hash)
  }

  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request.routeOptions.config)
    // Unknown routes are 404 for everyone; public routes need no credentials.
    if (access === 'public' || request.is404) return
    const principal = await identify(request, reply)
    if (principal === null) throw new Unauthorized()
    if (access === 'admin' && principal.kind !== 'admin') throw new Forbidden('the operator token')
    if (access === 'user' && principal.kind !== 'user') throw new Forbidden('a user API key')
    request.principal = principal
  })
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  return header === undefined ? undefined : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header)?.[1]
}

/** Who may call a route with this config: deny by default, public only on purpose. */
export function accessOf(config: { access?: Access }): Access {
  return config.access ?? 'user'
}

export default fp(authenticate, { name: 'payments-authenticate', fastify: '5.x' })
