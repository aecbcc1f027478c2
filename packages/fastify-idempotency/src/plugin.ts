import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisClient } from '@moolah/plugin-kit'
import { DependencyUnavailableError, IdempotencyKeyInUseError, IdempotencyKeyInvalidError, IdempotencyKeyMissingError, IdempotencyKeyReusedError, retryLater } from './errors.js'
import { eventEmitter, type IdempotencyEvent, type IdempotencyEventBase } from './events.js'
import { readIdempotencyKey } from './idempotency-key.js'
import { LeaseRenewals } from './lease-renewals.js'
import { MemoryStore } from './memory-store.js'
import { resolveOptions, resolveRouteSettings, type FastifyIdempotencyOptions, type IdempotencyRouteOptions, type RouteSettings, type WaitOptions } from './options.js'
import { RedisStore } from './redis-store.js'
import { kClaimedRequest, type ClaimedRequest, type IdempotencyContext } from './request-state.js'
import { readResponseBody } from './response-body.js'
import { storageKey } from './storage-key.js'
import type { ClaimResult, IdempotencyStore } from './store.js'
import { decodeResponse, encodeResponse } from './stored-response.js'
import { StoreTimeouts } from './store-timeouts.js'

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
    [kClaimedRequest]: ClaimedRequest | null
  }
}

const RETRY_AFTER_SECONDS = 1

type Operation = Extract<IdempotencyEvent, { type: 'store-error' }>['operation']

/** A claim's answer, or the store failure (timeout included) that prevented one. */
type ClaimOutcome = ClaimResult | { state: 'unavailable', error: unknown }

async function fastifyIdempotency(fastify: FastifyInstance, options: FastifyIdempotencyOptions): Promise<void> {
  const settings = resolveOptions(options)
  const { prefix, encryptionKey } = settings
  const timeouts = new StoreTimeouts(settings.timeoutMs)
  const emit = eventEmitter(settings.onEvent, fastify.log)
  const store = settings.store ?? defaultStore()
  if (settings.route.scope === undefined) {
    fastify.log.warn('@moolah/fastify-idempotency: no scope function, so a key is shared by every client of a route; pass scope(request) returning the authenticated principal')
  }

  function defaultStore(): IdempotencyStore {
    const redis = settings.redis ?? (fastify as unknown as { redis?: RedisClient }).redis
    const created: IdempotencyStore = redis === undefined ? new MemoryStore() : new RedisStore({ client: redis })
    fastify.addHook('onClose', async () => { await created.close?.() })
    return created
  }

  // Route settings are resolved once per route (the config object is per route).
  const routeSettingsCache = new WeakMap<object, RouteSettings | null>()
  function routeSettings(value: unknown, method: string, url: string, byDefault: boolean): RouteSettings | null {
    if (value === false || (value === undefined && !byDefault)) return null
    if (value === true || value === undefined) return settings.route
    if (typeof value !== 'object' || value === null) throw new TypeError(`@moolah/fastify-idempotency: route ${method} ${url} config.idempotency must be a boolean or an object`)
    return resolveRouteSettings(value, settings.route, `route ${method} ${url} config.idempotency.`)
  }
  function settingsFor(config: FastifyContextConfig, method: string, url: string): RouteSettings | null {
    let cached = routeSettingsCache.get(config)
    if (cached === undefined) {
      cached = routeSettings(config.idempotency, method, url, settings.methods.has(method))
      routeSettingsCache.set(config, cached)
    }
    return cached
  }

  const renewals = new Map<number, LeaseRenewals<ClaimedRequest>>()
  function renewalsFor(leaseMs: number): LeaseRenewals<ClaimedRequest> {
    let forLease = renewals.get(leaseMs)
    if (forLease === undefined) {
      forLease = new LeaseRenewals(leaseMs, renewOrGiveUp)
      renewals.set(leaseMs, forLease)
    }
    return forLease
  }
  fastify.addHook('onClose', async () => {
    for (const forLease of renewals.values()) forLease.stop()
  })

  function reportStoreError(operation: Operation, event: IdempotencyEventBase, error: unknown): void {
    emit?.({ ...event, type: 'store-error', operation, error: error as Error })
    fastify.log.warn({ err: error, operation, requestId: event.requestId }, '@moolah/fastify-idempotency: store call failed')
  }

  /** Runs one store call under the timeout; a failure is reported and becomes `undefined`. */
  function guarded<T>(operation: Operation, event: IdempotencyEventBase, call: Promise<T>): Promise<T | undefined> {
    // Not an async function: this is on every request's path, and each async layer costs a promise.
    return timeouts.run(call, operation).catch((error: unknown) => {
      reportStoreError(operation, event, error)
      return undefined
    })
  }

  /** The 503: the underlying error (already logged) is only the `cause`, never the message. */
  function unavailable(reply: FastifyReply, cause: unknown): Error {
    return retryLater(reply, DependencyUnavailableError, RETRY_AFTER_SECONDS, cause)
  }

  function claim(key: string, token: string, fingerprint: string, route: RouteSettings, event: IdempotencyEventBase): Promise<ClaimOutcome> {
    const pending = store.claim(key, { token, fingerprint, leaseMs: route.leaseMs })
    return timeouts.run(pending, 'claim').catch((error: unknown): ClaimOutcome => {
      reportStoreError('claim', event, error)
      // A claim that lands after its timeout would block the key for a whole lease: give it back.
      pending.then((late) => late.state === 'claimed' && store.release(key, token)).catch(() => {})
      return { state: 'unavailable', error }
    })
  }

  /** `wait`: looks again until the in-flight request is completed or released, or the wait is over. */
  async function claimAndWait(key: string, token: string, fingerprint: string, wait: Required<WaitOptions>, route: RouteSettings, event: IdempotencyEventBase): Promise<ClaimOutcome> {
    let result = await claim(key, token, fingerprint, route, event)
    const deadline = Date.now() + wait.timeoutMs
    while (result.state === 'in-flight' && result.fingerprint === fingerprint && Date.now() < deadline) {
      await sleep(wait.intervalMs)
      result = await claim(key, token, fingerprint, route, event)
    }
    return result
  }

  fastify.decorate('idempotencyStore', store)
  fastify.decorateRequest('idempotency', null)
  // Declared up front so requests keep one shape (a property added later would slow Fastify down).
  fastify.decorateRequest(kClaimedRequest, null)

  // Validates per-route overrides when the route is declared, not at its first request.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    routeSettings(route.config?.idempotency, String(route.method), route.url, false)
  })

  // preHandler: after authentication (onRequest / preValidation) gives the scope and after
  // body parsing and validation give the fingerprint; before the handler and later preHandlers.
  // Callback style rather than async: a request that does not take part costs no promise, and
  // a replay is sent without `return reply` (which makes Fastify watch the response until it ends).
  fastify.addHook('preHandler', (request, reply, done) => {
    const { config, url: routeUrl } = request.routeOptions // a getter that builds a new object: read it once
    if (routeUrl === undefined) return done() // the 404 handler (what request.is404 looks at)
    const route = settingsFor(config, request.method, routeUrl)
    if (route === null) return done()
    const parsed = readIdempotencyKey(request.headers, settings.headerNames)
    if (parsed.status === 'invalid') return done(new IdempotencyKeyInvalidError(parsed.reason))
    if (parsed.status === 'missing') return done(route.required ? new IdempotencyKeyMissingError() : undefined)
    // Resolves true when the handler should run; a replay has been sent when it resolves false
    // (and then done is not called: that is how a callback hook ends a request).
    admit(request, reply, route, routeUrl, parsed.key).then((run) => { if (run) done() }, done)
  })

  async function admit(request: FastifyRequest, reply: FastifyReply, route: RouteSettings, routeUrl: string, key: string): Promise<boolean> {
    // Awaited only when a promise comes back: most scope and fingerprint functions are synchronous.
    const scopeResult = route.scope === undefined ? '' : route.scope(request)
    const scope = typeof scopeResult === 'string' ? scopeResult : await scopeResult
    if (typeof scope !== 'string') throw new TypeError('@moolah/fastify-idempotency: scope(request) must return a string')
    const fingerprintResult = route.fingerprint(request)
    const fingerprint = typeof fingerprintResult === 'string' ? fingerprintResult : await fingerprintResult
    request.idempotency = { key, scope, fingerprint }
    const event: IdempotencyEventBase = { key, scope, method: request.method, route: routeUrl, requestId: request.id }
    const recordKey = storageKey(prefix, { scope, method: request.method, route: routeUrl, key })
    const token = randomUUID()

    const result = route.wait === undefined ? await claim(recordKey, token, fingerprint, route, event) : await claimAndWait(recordKey, token, fingerprint, route.wait, route, event)
    if (result.state === 'unavailable') {
      if (settings.failMode === 'closed') throw unavailable(reply, result.error)
      request.log.warn({ key }, '@moolah/fastify-idempotency: store unavailable, running the request without idempotency (failMode open)')
      return true
    }
    if (result.state !== 'claimed' && result.fingerprint !== fingerprint) {
      emit?.({ ...event, type: 'mismatch' })
      throw new IdempotencyKeyReusedError()
    }
    if (result.state === 'in-flight') {
      emit?.({ ...event, type: 'conflict', retryAfterSeconds: RETRY_AFTER_SECONDS })
      throw retryLater(reply, IdempotencyKeyInUseError, RETRY_AFTER_SECONDS)
    }
    if (result.state === 'completed') {
      replay(reply, result.response, recordKey, event)
      return false
    }

    const claimed: ClaimedRequest = { storageKey: recordKey, token, route, event, reply, renewals: renewalsFor(route.leaseMs), errored: false, settled: false }
    claimed.renewals.add(claimed)
    request[kClaimedRequest] = claimed
    emit?.({ ...event, type: 'claimed' })
    return true
  }

  /**
   * One renewal tick. The tick also notices what per-request hooks (onResponse, onRequestAbort,
   * onTimeout) would, without their cost on every request: a hijacked reply that ended without
   * onSend (nothing to store: release), and a client that is gone or a socket that timed out
   * (stop renewing, so a hung handler cannot hold the key forever; if it still finishes within
   * the lease its owner-checked commit works).
   */
  async function renewOrGiveUp(claimed: ClaimedRequest): Promise<boolean> {
    const reply = claimed.reply
    if (reply.raw.writableEnded) {
      claimed.settled = true
      await release(claimed, 'unstorable', reply.statusCode)
      return false
    }
    if (reply.raw.destroyed) return false
    const owned = await guarded('renew', claimed.event, store.renew(claimed.storageKey, claimed.token, claimed.route.leaseMs))
    if (owned === false) emit?.({ ...claimed.event, type: 'lease-lost', operation: 'renew' })
    return owned !== false // a failed call is retried at the next tick
  }

  function replay(reply: FastifyReply, bytes: Buffer, recordKey: string, event: IdempotencyEventBase): void {
    let stored
    try {
      stored = decodeResponse(bytes, encryptionKey, recordKey)
    } catch (error) {
      // The record proves the request ran; running it again is never the answer, whatever failMode says.
      reportStoreError('decode', event, error)
      throw unavailable(reply, error)
    }
    emit?.({ ...event, type: 'replayed', statusCode: stored.statusCode })
    reply.code(stored.statusCode).headers(stored.headers).header('idempotent-replayed', 'true').send(stored.body)
  }

  async function release(claimed: ClaimedRequest, reason: 'status' | 'error' | 'too-large' | 'unstorable', statusCode: number): Promise<void> {
    const released = await guarded('release', claimed.event, store.release(claimed.storageKey, claimed.token))
    if (released === true) emit?.({ ...claimed.event, type: 'released', reason, statusCode })
    if (released === false) emit?.({ ...claimed.event, type: 'lease-lost', operation: 'release' })
  }

  fastify.addHook('onError', async (request) => {
    // `== null`: requests of a child context made before this plugin was registered carry
    // the hooks but not the decoration, so the property is undefined there.
    const claimed = request[kClaimedRequest]
    if (claimed != null) claimed.errored = true
  })

  // onSend sees the final status, headers and bytes; the commit is awaited here, so the
  // record exists before the client can read the response and retry. Callback style, so the
  // responses of requests without a claim (replays, other routes) go on without a promise.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const claimed = request[kClaimedRequest]
    if (claimed == null || claimed.settled) return done(null, payload)
    settle(claimed, reply, payload).then((sent) => done(null, sent), done)
  })

  /** Commits the response (or releases the claim); resolves with the payload to send. */
  async function settle(claimed: ClaimedRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    claimed.settled = true
    claimed.renewals.delete(claimed)
    const statusCode = reply.statusCode
    if (claimed.errored || !claimed.route.shouldStore(statusCode)) {
      await release(claimed, claimed.errored ? 'error' : 'status', statusCode)
      return payload
    }
    const read = readResponseBody(payload, claimed.route.maxBodyBytes)
    const body = read instanceof Promise ? await read : read
    if (body.status !== 'stored') {
      reply.log.warn({ reason: body.status }, '@moolah/fastify-idempotency: response not stored; the key is released')
      await release(claimed, body.status, statusCode)
      return body.payload
    }
    const headers: Record<string, string | string[]> = {}
    for (const name of claimed.route.replayHeaders) {
      const value = reply.getHeader(name)
      if (value !== undefined) headers[name] = typeof value === 'number' ? String(value) : value
    }
    const record = encodeResponse({ statusCode, headers, body: body.body }, encryptionKey, claimed.storageKey)
    const committed = await guarded('commit', claimed.event, store.commit(claimed.storageKey, claimed.token, record, claimed.route.ttlMs))
    if (committed === true) emit?.({ ...claimed.event, type: 'committed', statusCode, bytes: body.size })
    if (committed === false) {
      emit?.({ ...claimed.event, type: 'lease-lost', operation: 'commit' })
      reply.log.warn('@moolah/fastify-idempotency: lease lost before commit; the response was not stored')
    }
    return body.payload
  }
}

export const idempotency = fp(fastifyIdempotency, { name: '@moolah/fastify-idempotency', fastify: '5.x' })
