import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { WalletLockManager } from './lock-manager.js'
import { checkInteger } from './validate.js'

/** Which resources a request locks; undefined, null or [] means none. */
export type WalletLockResolver = (request: FastifyRequest) => string | readonly string[] | undefined | null

/** `config.walletLock` of a route: a resolver, or a resolver with this route's lease and wait. */
export type WalletLockRouteConfig = WalletLockResolver | { resources: WalletLockResolver, ttlMs?: number, waitMs?: number }

type Hook = (...args: never[]) => unknown

function append(hooks: Hook | Hook[] | undefined, hook: Hook): Hook[] {
  return [...(hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]), hook]
}

/**
 * For a route whose `config.walletLock` is set: takes the locks in the LAST preHandler (after
 * the body is parsed and validated and after every other preHandler, e.g. auth and the
 * idempotency claim), and releases them as soon as the handler has answered: onSend
 * (success, or an error reply), onError (thrown error), onResponse as a backstop.
 */
export function lockRoute(route: RouteOptions, manager: WalletLockManager): void {
  const config = route.config?.walletLock
  if (config === undefined) return
  const { resources, ttlMs, waitMs } = typeof config === 'function' ? { resources: config, ttlMs: undefined, waitMs: undefined } : config
  if (typeof resources !== 'function') throw new TypeError(`wallet-lock: config.walletLock of ${route.method} ${route.url} must be a function or { resources: function }`)
  checkInteger(`config.walletLock.ttlMs of ${route.url}`, ttlMs, 1)
  checkInteger(`config.walletLock.waitMs of ${route.url}`, waitMs, 0)

  const takeLocks = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const ids = resources(request)
    if (ids === undefined || ids === null || ids.length === 0) return
    // a client that goes away stops the wait; a lock already held stays until the handler answers
    const clientGone = new AbortController()
    const onClose = (): void => clientGone.abort(new Error('wallet-lock: the client closed the connection while waiting'))
    request.raw.socket.once('close', onClose)
    try {
      request.walletLock = await manager.acquire(ids, { ttlMs, waitMs, signal: clientGone.signal, autoExtend: true })
    } catch (error) {
      const retryAfter = (error as { retryAfter?: unknown }).retryAfter
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter))
      throw error
    } finally {
      request.raw.socket.removeListener('close', onClose)
    }
  }
  const releaseLocks = async (request: FastifyRequest): Promise<void> => {
    await request.walletLock?.release()
  }
  const releaseBeforeSend = async (request: FastifyRequest, _reply: FastifyReply, payload: unknown): Promise<unknown> => {
    await releaseLocks(request)
    return payload
  }

  route.preHandler = append(route.preHandler as Hook | Hook[] | undefined, takeLocks) as RouteOptions['preHandler']
  route.onSend = append(route.onSend as Hook | Hook[] | undefined, releaseBeforeSend) as RouteOptions['onSend']
  route.onError = append(route.onError as Hook | Hook[] | undefined, releaseLocks) as RouteOptions['onError']
  route.onResponse = append(route.onResponse as Hook | Hook[] | undefined, releaseLocks) as RouteOptions['onResponse']
}
