import { eq } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../db/database.js'
import { users } from '../db/schema.js'
import { Forbidden, Unauthorized } from '../errors.js'
import { hashApiKey, secretsEqual } from './api-key.js'

export type Principal = { kind: 'admin', id: 'admin' } | { kind: 'user', id: string }
/** Who may call a route; `public` needs no credentials. */
export type Access = 'public' | 'user' | 'admin'

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

export interface AuthenticateOptions {
  db: Db
  adminToken: string
}

/**
 * Resolves the bearer token in `onRequest`, before the body is read: unauthenticated
 * requests cost no parsing, and the idempotency scope and rate-limit key (later hooks)
 * can rely on `request.principal`.
 */
async function authenticate(app: FastifyInstance, { db, adminToken }: AuthenticateOptions): Promise<void> {
  app.decorateRequest('principal', null)

  const resolve = async (request: FastifyRequest): Promise<Principal | null> => {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(request.headers.authorization ?? '')
    if (match === null) return null
    const token = match[1] as string
    if (secretsEqual(token, adminToken)) return { kind: 'admin', id: 'admin' }
    // The key is looked up by its hash: the stored value is never compared to the secret.
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.apiKeyHash, hashApiKey(token))).limit(1)
    return user === undefined ? null : { kind: 'user', id: user.id }
  }

  app.addHook('onRequest', async (request) => {
    const access = accessOf(request.routeOptions.config)
    if (access === 'public') return
    const principal = await resolve(request)
    if (principal === null) throw new Unauthorized()
    if (access === 'admin' && principal.kind !== 'admin') throw new Forbidden('the operator token')
    if (access === 'user' && principal.kind !== 'user') throw new Forbidden('a user API key')
    request.principal = principal
  })
}

/** Who may call a route with this config (public unless it says otherwise). */
export function accessOf(config: { access?: Access }): Access {
  return config.access ?? 'public'
}

export default fp(authenticate, { name: 'payments-authenticate', fastify: '5.x' })
