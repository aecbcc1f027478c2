import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { ClientClosedRequestError, retryAfterOf } from './errors.js'
import type { WalletLockManager } from './lock-manager.js'
import { checkInteger } from './validate.js'
import type { WalletLock } from './wallet-lock.js'

/** Which resources a request locks; undefined, null or [] means none. */
export type WalletLockResolver = (request: FastifyRequest) => string | readonly string[] | undefined | null

/** `config.walletLock` of a route: a resolver, or a resolver with this route's lease and wait. */
export type WalletLockRouteConfig = WalletLockResolver | { resources: WalletLockResolver, ttlMs?: number, waitMs?: number }

type Hook = (...args: never[]) => unknown

function append(hooks: Hook | Hook[] | undefined, hook: Hook): Hook[] {
  return [...(hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]), hook]
}

/** Locks whose release a route has started, so each is released (and reported) once, whichever hook comes first. */
const releasing = new WeakSet<WalletLock>()

/**
 * Starts the release of the request's locks without making the response wait for it: the
 * handler has answered, so its database work is done. A release that fails leaves the lease
 * to expire; it is logged, never thrown.
 */
function releaseInBackground(request: FastifyRequest): void {
  const lock = request.walletLock
  if (lock === null || releasing.has(lock)) return
  releasing.add(lock)
  // release() never rejects: a store failure is reported as a store-error event and `false`
  void lock.release().then((owned) => {
    if (!owned) request.log.warn({ resources: lock.resources }, 'wallet-lock: the locks were not released (lease lost or store unreachable); their lease expiry frees them')
  })
}

/**
 * For a route whose `config.walletLock` is set: takes the locks in the LAST preHandler (after
 * the body is parsed and validated and after every other preHandler, e.g. auth and the
 * idempotency claim), and starts their release, not awaited, as soon as the handler has
 * answered: preSerialization (which runs before every onSend hook, instance-level ones such
 * as the idempotency commit included), onSend (payloads that skip preSerialization), onError
 * (thrown error), onResponse as a backstop.
 */
export function lockRoute(route: RouteOptions, manager: WalletLockManager): void {
  const config = route.config?.walletLock
  if (config === undefined) return
  const { resources, ttlMs, waitMs } = typeof config === 'function' ? { resources: config, ttlMs: undefined, waitMs: undefined } : config
  if (typeof resources !== 'function') throw new TypeError(`wallet-lock: config.walletLock of ${route.method} ${route.url} must be a function or { resources: function }`)
  checkInteger(`config.walletLock.ttlMs of ${route.url}`, ttlMs, 1)
  checkInteger(`config.walletLock.waitMs of ${route.url}`, waitMs, 0)

  const takeLocks = async (request: FastifyRequest): Promise<void> => {
    const ids = resources(request)
    if (ids === undefined || ids === null || ids.length === 0) return
    // a client that goes away stops the wait; a lock already held stays until the handler answers
    const clientGone = new AbortController()
    const onClose = (): void => clientGone.abort(new ClientClosedRequestError())
    request.raw.socket.once('close', onClose)
    try {
      request.walletLock = await manager.acquire(ids, { ttlMs, waitMs, signal: clientGone.signal, autoExtend: true })
    } finally {
      request.raw.socket.removeListener('close', onClose)
    }
  }
  const releasePassingPayload = (request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void): void => {
    releaseInBackground(request)
    done(null, payload)
  }
  // every error of this plugin on this route gets its Retry-After, whoever throws it (a handler
  // that stops on a lost lease included); onError runs before the error handler formats the reply
  const onError = (request: FastifyRequest, reply: FastifyReply, error: Error, done: () => void): void => {
    const retryAfter = retryAfterOf(error)
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
    releaseInBackground(request)
    done()
  }
  const onResponse = (request: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    releaseInBackground(request)
    done()
  }

  route.preHandler = append(route.preHandler as Hook | Hook[] | undefined, takeLocks) as RouteOptions['preHandler']
  route.preSerialization = append(route.preSerialization as Hook | Hook[] | undefined, releasePassingPayload) as RouteOptions['preSerialization']
  route.onSend = append(route.onSend as Hook | Hook[] | undefined, releasePassingPayload) as RouteOptions['onSend']
  route.onError = append(route.onError as Hook | Hook[] | undefined, onError) as RouteOptions['onError']
  route.onResponse = append(route.onResponse as Hook | Hook[] | undefined, onResponse) as RouteOptions['onResponse']
}
