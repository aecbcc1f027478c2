import { randomUUID } from 'node:crypto'
import { selectStore, setRetryAfter } from '@moolah/plugin-kit'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Claims, type ClaimedRequest } from './claims.js'
import {
  IdempotencyKeyInvalidError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReusedError,
  keyInUse,
  RETRY_AFTER_SECONDS,
  storeUnavailable
} from './errors.js'
import type { IdempotencyEventBase } from './events.js'
import { readIdempotencyKey } from './idempotency-key.js'
import {
  PLUGIN,
  resolveOptions,
  type IdempotencyOptions,
  type IdempotencyRouteOptions,
  type RouteSettings
} from './options.js'
import { storageKey } from './request-identity.js'
import { MemoryIdempotencyStore } from './stores/memory.js'
import { RedisIdempotencyStore } from './stores/redis.js'
import { STORE_METHODS, type IdempotencyStore } from './stores/store.js'

/** What `request.idempotency` tells the application (e.g. to write into its own UNIQUE-constrained rows). */
export interface IdempotencyContext {
  /** The client's Idempotency-Key. */
  key: string
  /** The principal from `scope(request)`; '' without a scope function. */
  scope: string
  /** The request fingerprint stored with the record. */
  fingerprint: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The store the idempotency plugin uses. */
    idempotencyStore: IdempotencyStore
  }
  interface FastifyContextConfig {
    /** `true` or overrides to opt in, `false` to opt out; by default POST and PATCH routes take part. */
    idempotency?: boolean | IdempotencyRouteOptions
  }
  interface FastifyRequest {
    /** Set once a valid key was read (null on routes or requests without idempotency). */
    idempotency: IdempotencyContext | null
  }
}

// The claim a request owns, kept off the public FastifyRequest type: a decoration (so requests
// keep one shape) under a symbol that is not exported.
const kClaimed = Symbol('@moolah/fastify-idempotency claimed request')

/** `undefined` on routes of a context made before the plugin was registered: they get the hooks, not the decoration. */
type ClaimingRequest = FastifyRequest & { [kClaimed]?: ClaimedRequest | null }

async function idempotencyPlugin(fastify: FastifyInstance, options: IdempotencyOptions): Promise<void> {
  const resolved = resolveOptions(options)
  const store = selectStore<IdempotencyStore>(fastify, options, {
    plugin: PLUGIN,
    name: 'IdempotencyStore',
    methods: STORE_METHODS,
    memory: () => new MemoryIdempotencyStore(),
    redis: (redis) => new RedisIdempotencyStore(redis)
  })
  if (resolved.route.scope === undefined) {
    fastify.log.warn(
      `${PLUGIN}: no scope function, so a key is shared by every client of a route; pass scope(request) returning the authenticated principal`
    )
  }
  const claims = new Claims(store, resolved, fastify.log)
  fastify.decorate('idempotencyStore', store)
  fastify.decorateRequest('idempotency', null)
  fastify.decorateRequest(kClaimed, null)
  fastify.addHook('onRoute', (route) => validateRouteConfig(claims, route))
  fastify.addHook('preHandler', claimOrReplay.bind(claims))
  fastify.addHook('onError', markErrored)
  fastify.addHook('onSend', commitOrRelease.bind(claims))
  fastify.addHook('onClose', async () => {
    claims.stop()
  })
}

export const idempotency = fp(idempotencyPlugin, { name: PLUGIN, fastify: '5.x' })

/** onRoute: per-route overrides are validated when the route is declared, not at its first request. */
function validateRouteConfig(claims: Claims, route: RouteOptions): void {
  claims.resolveRoute(route.config?.idempotency, String(route.method), route.url, false)
}

/**
 * preHandler: reads the key, claims it, and replays or refuses (409, 422, 503) before the
 * handler. It runs after authentication (onRequest / preValidation) gives the scope and after
 * body parsing and validation give the fingerprint, and before later preHandlers (a wallet
 * lock). Callback style rather than async: a request that does not take part costs no promise,
 * and a replay is sent without `return reply` (which makes Fastify watch the response until it ends).
 */
function claimOrReplay(
  this: Claims,
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: FastifyError) => void
): void {
  const { config, url: routeUrl } = request.routeOptions // a getter that builds a new object: read it once
  if (routeUrl === undefined) return done() // the 404 handler (what request.is404 looks at)
  const route = this.routeSettings(config, request.method, routeUrl)
  if (route === null) return done()
  const parsed = readIdempotencyKey(request.headers, this.options.headerNames)
  if (parsed.status === 'invalid') return done(new IdempotencyKeyInvalidError(parsed.reason))
  if (parsed.status === 'missing') return done(route.required ? new IdempotencyKeyMissingError() : undefined)
  void admit(this, request as ClaimingRequest, reply, route, routeUrl, parsed.key, done)
}

/**
 * Calls `done` when the handler should run, or with the refusal. After a replay it does not
 * call it: that is how a callback hook ends a request. (`done` itself is called outside the
 * try, so an exception from a later hook is never taken for this hook's own.)
 */
async function admit(
  claims: Claims,
  request: ClaimingRequest,
  reply: FastifyReply,
  route: RouteSettings,
  routeUrl: string,
  key: string,
  done: (error?: FastifyError) => void
): Promise<void> {
  let run: boolean
  try {
    run = await claimOrRefuse(claims, request, reply, route, routeUrl, key)
  } catch (error) {
    return done(setRetryAfter(reply, error as FastifyError))
  }
  if (run) done()
}

/** Resolves true when the handler should run, false after a replay; throws the refusals (409, 422, 503). */
async function claimOrRefuse(
  claims: Claims,
  request: ClaimingRequest,
  reply: FastifyReply,
  route: RouteSettings,
  routeUrl: string,
  key: string
): Promise<boolean> {
  // Awaited only when a promise comes back: most scope and fingerprint functions are synchronous.
  const scopeResult = route.scope === undefined ? '' : route.scope(request)
  const scope = typeof scopeResult === 'string' ? scopeResult : await scopeResult
  if (typeof scope !== 'string') throw new TypeError(`${PLUGIN}: scope(request) must return a string`)
  const fingerprintResult = route.fingerprint(request)
  const fingerprint = typeof fingerprintResult === 'string' ? fingerprintResult : await fingerprintResult
  request.idempotency = { key, scope, fingerprint }
  const event: IdempotencyEventBase = {
    key,
    scope,
    method: request.method,
    route: routeUrl,
    requestId: request.id
  }
  const recordKey = storageKey({ scope, method: request.method, route: routeUrl, key })
  const token = randomUUID()

  const result = await claims.claim(recordKey, token, fingerprint, route, event)
  if (result.state === 'unavailable') {
    if (claims.options.failMode === 'closed') throw storeUnavailable(result.error)
    request.log.warn(
      { key },
      `${PLUGIN}: store unavailable, running the request without idempotency (failMode open)`
    )
    return true
  }
  if (result.state !== 'claimed' && result.fingerprint !== fingerprint) {
    claims.emit?.({ ...event, type: 'mismatch' })
    throw new IdempotencyKeyReusedError()
  }
  if (result.state === 'in-flight') {
    claims.emit?.({ ...event, type: 'conflict', retryAfterSeconds: RETRY_AFTER_SECONDS })
    throw keyInUse()
  }
  if (result.state === 'completed') {
    const stored = claims.decode(result.response, recordKey, event)
    claims.emit?.({ ...event, type: 'replayed', statusCode: stored.statusCode })
    reply
      .code(stored.statusCode)
      .headers(stored.headers)
      .header('idempotent-replayed', 'true')
      .send(stored.body)
    return false
  }
  request[kClaimed] = claims.track(recordKey, token, route, event, reply)
  claims.emit?.({ ...event, type: 'claimed' })
  return true
}

/** onError: a thrown error releases the claim whatever status the error handler then picks. */
function markErrored(
  request: FastifyRequest,
  _reply: FastifyReply,
  _error: FastifyError,
  done: () => void
): void {
  const claimed = (request as ClaimingRequest)[kClaimed]
  if (claimed != null) claimed.errored = true
  done()
}

/**
 * onSend: sees the final status, headers and bytes; the commit is awaited here, so the record
 * exists before the client can read the response and retry. Callback style, so the responses
 * of requests without a claim (replays, other routes) go on without a promise.
 */
function commitOrRelease(
  this: Claims,
  request: FastifyRequest,
  _reply: FastifyReply,
  payload: unknown,
  done: (error: Error | null, payload?: unknown) => void
): void {
  const claimed = (request as ClaimingRequest)[kClaimed]
  if (claimed == null || claimed.settled) return done(null, payload)
  void this.settle(claimed, payload, done)
}
