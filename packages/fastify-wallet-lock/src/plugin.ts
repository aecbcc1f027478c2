import { OptionReader, selectStore, setRetryAfter } from '@moolah/plugin-kit'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onErrorHookHandler,
  onResponseHookHandler,
  onSendHookHandler,
  preHandlerHookHandler,
  preSerializationHookHandler,
  RouteOptions
} from 'fastify'
import fp from 'fastify-plugin'
import { ClientClosedRequestError } from './errors.js'
import { readDurations, WalletLockManager } from './lock-manager.js'
import { PLUGIN, resolveOptions, type WalletLockOptions } from './options.js'
import { MemoryWalletLockStore } from './stores/memory.js'
import { RedisWalletLockStore } from './stores/redis.js'
import { STORE_METHODS, type WalletLockStore } from './stores/store.js'
import type { WalletLock } from './wallet-lock.js'

/** Which resources a request locks; undefined, null or [] means none. */
export type WalletLockResolver = (request: FastifyRequest) => string | readonly string[] | undefined | null

/** `config.walletLock` of a route: a resolver, or a resolver with this route's lease and wait. */
export type WalletLockRouteConfig =
  WalletLockResolver | { resources: WalletLockResolver; leaseMs?: number; waitMs?: number }

declare module 'fastify' {
  interface FastifyInstance {
    /** Takes wallet locks: `acquire`, `withLock`. */
    walletLock: WalletLockManager
  }
  interface FastifyRequest {
    /** The locks this request holds (routes with `config.walletLock`), else null. */
    walletLock: WalletLock | null
  }
  interface FastifyContextConfig {
    /** Lock the resources this returns before the handler; released once the handler has answered. */
    walletLock?: WalletLockRouteConfig
  }
}

async function walletLockPlugin(fastify: FastifyInstance, options: WalletLockOptions): Promise<void> {
  const resolved = resolveOptions(options)
  const store = selectStore<WalletLockStore>(fastify, options, {
    plugin: PLUGIN,
    name: 'WalletLockStore',
    methods: STORE_METHODS,
    memory: () => new MemoryWalletLockStore(),
    redis: (redis) => new RedisWalletLockStore(redis)
  })
  const manager = new WalletLockManager({ store, ...resolved, log: fastify.log })
  fastify.decorate('walletLock', manager)
  fastify.decorateRequest('walletLock', null)
  fastify.addHook('onRoute', (route) => lockRoute(route, manager))
}

export const walletLock = fp(walletLockPlugin, { name: PLUGIN, fastify: '5.x' })

type Hook = (...args: never[]) => unknown

/**
 * onRoute: a route whose `config.walletLock` is set takes its locks in its LAST preHandler (after
 * the body is parsed and validated and after every other preHandler, e.g. auth and the
 * idempotency claim), and starts their release, not awaited, as soon as the handler has
 * answered: preSerialization (which runs before every onSend hook, instance-level ones such as
 * the idempotency commit included), onSend (payloads that skip preSerialization), onError (a
 * thrown error), onResponse as a backstop.
 */
function lockRoute(route: RouteOptions, manager: WalletLockManager): void {
  const config = route.config?.walletLock
  if (config === undefined) return
  const where = `route ${String(route.method)} ${route.url}: config.walletLock`
  const { resources, ...tuned } = typeof config === 'function' ? { resources: config } : config
  if (typeof resources !== 'function')
    throw new TypeError(`${PLUGIN}: ${where} must be a function or { resources: function }`)
  const durations = readDurations(new OptionReader(PLUGIN, tuned, where))
  route.preHandler = append(route.preHandler, takeLocks(manager, resources, durations))
  route.preSerialization = append(route.preSerialization, releaseBeforeSerializing)
  route.onSend = append(route.onSend, releaseBeforeSending)
  route.onError = append(route.onError, releaseOnError)
  route.onResponse = append(route.onResponse, releaseOnResponse)
}

/** preHandler: locks what the resolver returns; a client that goes away stops the wait (499). */
function takeLocks(
  manager: WalletLockManager,
  resources: WalletLockResolver,
  durations: { leaseMs?: number | undefined; waitMs?: number | undefined }
): preHandlerHookHandler {
  return async function (request) {
    const ids = resources(request)
    if (ids === undefined || ids === null || ids.length === 0) return
    // a lock already held stays until the handler answers: it may still be writing
    const clientGone = new AbortController()
    const onClose = (): void => clientGone.abort(new ClientClosedRequestError())
    request.raw.socket.once('close', onClose)
    try {
      request.walletLock = await manager.acquire(ids, {
        ...durations,
        signal: clientGone.signal,
        autoRenew: true
      })
    } finally {
      request.raw.socket.removeListener('close', onClose)
    }
  }
}

/** preSerialization: the handler has answered (reply.send of an object), so its database work is done. */
const releaseBeforeSerializing: preSerializationHookHandler = function (request, _reply, payload, done) {
  releaseInBackground(request)
  done(null, payload)
}

/** onSend: for payloads that skip preSerialization (strings, buffers, streams). */
const releaseBeforeSending: onSendHookHandler = function (request, _reply, payload, done) {
  releaseInBackground(request)
  done(null, payload)
}

/**
 * onError, before the error handler formats the reply: every error of this plugin on this route
 * gets its Retry-After, whoever throws it (a handler that stops on a lost lease included).
 */
const releaseOnError: onErrorHookHandler = function (request, reply, error, done) {
  setRetryAfter(reply, error)
  releaseInBackground(request)
  done()
}

/** onResponse: the backstop. */
const releaseOnResponse: onResponseHookHandler = function (request, _reply: FastifyReply, done) {
  releaseInBackground(request)
  done()
}

/** Locks whose release a route has started, so each is released (and reported) once, whichever hook comes first. */
const releasing = new WeakSet<WalletLock>()

/**
 * Starts the release of the request's locks without making the response wait for it. A release
 * that fails leaves the lease to expire; it is logged, never thrown.
 */
function releaseInBackground(request: FastifyRequest): void {
  const lock = request.walletLock
  if (lock === null || releasing.has(lock)) return
  releasing.add(lock)
  // release() never rejects: a store failure is reported as a store-error event and `false`
  void lock.release().then((owned) => {
    if (!owned)
      request.log.warn(
        { resources: lock.resources },
        `${PLUGIN}: the locks were not released (lease lost or store unreachable); their lease expiry frees them`
      )
  })
}

function append<H>(hooks: H | H[] | undefined, hook: Hook): H[] {
  return [...(hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]), hook as H]
}
