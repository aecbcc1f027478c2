import type { FastifyRequest } from 'fastify'
import type { RedisClient } from '@moolah/plugin-kit'
import type { IdempotencyEventListener } from './events.js'
import { defaultFingerprint } from './fingerprint.js'
import type { IdempotencyStore } from './store.js'

export type ScopeFunction = (request: FastifyRequest) => string | Promise<string>
export type FingerprintFunction = (request: FastifyRequest) => string | Promise<string>

export interface WaitOptions {
  /** How long a request waits for the in-flight one before answering 409. Default 5000. */
  timeoutMs?: number
  /** Pause between looks at the record. Default 50. */
  intervalMs?: number
}

/** Settings a route may override through `config: { idempotency: { … } }`. */
export interface IdempotencyRouteOptions {
  /** Whether a request without a key is refused (400) or simply runs without idempotency. Default true. */
  required?: boolean
  /** The principal the key belongs to, e.g. the authenticated user id. */
  scope?: ScopeFunction
  /** Identifies "the same request". Default: sha256 of method, path and query string as received, and canonical JSON body. */
  fingerprint?: FingerprintFunction
  /** Wait for an in-flight request with the same key and replay its result instead of answering 409. Default false. */
  wait?: boolean | WaitOptions
  /** Lease of an in-flight claim, renewed every third of it while the handler runs. Default 30 000. */
  leaseMs?: number
  /** How long a completed response is kept for replay. Default 86 400 (24 h). */
  ttlSeconds?: number
  /** Which statuses are stored; any other releases the key. Default 2xx. */
  shouldStore?: (statusCode: number) => boolean
  /** Response headers stored and replayed (besides the status and body). Default content-type, location, etag. */
  replayHeaders?: string[]
  /** Largest body stored; a larger one is sent but not stored, and the key is released. Default 1 MiB. */
  maxBodyBytes?: number
}

export interface FastifyIdempotencyOptions extends IdempotencyRouteOptions {
  /** A store instance. Default: a Redis store on `redis` or `fastify.redis`, else a memory store. */
  store?: IdempotencyStore
  /** An ioredis `Redis` or `Cluster` for the default Redis store. */
  redis?: RedisClient
  /** Prefix of every storage key. Default `idempotency:`. */
  prefix?: string
  /** Timeout of every store call. Default 1000. */
  timeoutMs?: number
  /** What happens when the store fails: 'closed' answers 503, 'open' runs the request without idempotency. Default 'closed'. */
  failMode?: 'closed' | 'open'
  /** Methods that are idempotent-by-key without a route opting in. Default POST, PATCH. */
  methods?: string[]
  /** Request headers read for the key, first present wins. Default idempotency-key, x-idempotency-key. */
  headerNames?: string[]
  /** 32-byte key: stored responses are encrypted with AES-256-GCM. */
  encryptionKey?: Buffer
  /** Observability hook; its exceptions are logged, never thrown. */
  onEvent?: IdempotencyEventListener
}

/** The route-level settings after defaults and overrides. */
export interface RouteSettings {
  required: boolean
  scope: ScopeFunction | undefined
  fingerprint: FingerprintFunction
  wait: Required<WaitOptions> | undefined
  leaseMs: number
  ttlMs: number
  shouldStore: (statusCode: number) => boolean
  replayHeaders: string[]
  maxBodyBytes: number
}

export interface GlobalSettings {
  store: IdempotencyStore | undefined
  redis: RedisClient | undefined
  prefix: string
  timeoutMs: number
  failMode: 'closed' | 'open'
  methods: Set<string>
  headerNames: string[]
  encryptionKey: Buffer | undefined
  onEvent: IdempotencyEventListener | undefined
  route: RouteSettings
}

// Never replayed: they belong to the original exchange (credentials, cookies) or are
// recomputed for every response (framing).
const FORBIDDEN_REPLAY_HEADERS = new Set(['set-cookie', 'cookie', 'authorization', 'proxy-authorization', 'www-authenticate', 'content-length', 'transfer-encoding', 'connection', 'idempotent-replayed'])

const isSuccess = (statusCode: number): boolean => statusCode >= 200 && statusCode < 300

function fail(where: string, message: string): never {
  throw new TypeError(`@moolah/fastify-idempotency: ${where}${message}`)
}

function positiveInteger(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(where, `${name} must be a positive integer, got ${String(value)}`)
  return value
}

function optionalFunction<T>(where: string, name: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') fail(where, `${name} must be a function`)
  return value as T
}

function lowerCaseNames(where: string, name: string, value: unknown, fallback: string[], allowEmpty: boolean): string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '') || (!allowEmpty && value.length === 0)) {
    fail(where, `${name} must be an array of ${allowEmpty ? '' : 'at least one '}non-empty string${allowEmpty ? 's' : ''}`)
  }
  return (value as string[]).map((item) => item.toLowerCase())
}

function resolveWait(where: string, value: unknown, fallback: Required<WaitOptions> | undefined): Required<WaitOptions> | undefined {
  if (value === undefined) return fallback
  if (value === false) return undefined
  if (value === true) return { timeoutMs: 5000, intervalMs: 50 }
  if (typeof value !== 'object' || value === null) fail(where, 'wait must be a boolean or { timeoutMs?, intervalMs? }')
  const wait = value as WaitOptions
  return { timeoutMs: positiveInteger(where, 'wait.timeoutMs', wait.timeoutMs, 5000), intervalMs: positiveInteger(where, 'wait.intervalMs', wait.intervalMs, 50) }
}

/** Applies `overrides` on top of `base`, validating every given value. */
export function resolveRouteSettings(overrides: IdempotencyRouteOptions, base: RouteSettings, where: string): RouteSettings {
  if (overrides.required !== undefined && typeof overrides.required !== 'boolean') fail(where, 'required must be a boolean')
  const replayHeaders = lowerCaseNames(where, 'replayHeaders', overrides.replayHeaders, base.replayHeaders, true)
  const forbidden = replayHeaders.find((name) => FORBIDDEN_REPLAY_HEADERS.has(name))
  if (forbidden !== undefined) fail(where, `replayHeaders must not include ${forbidden}`)
  return {
    required: overrides.required ?? base.required,
    scope: optionalFunction(where, 'scope', overrides.scope, base.scope),
    fingerprint: optionalFunction(where, 'fingerprint', overrides.fingerprint, base.fingerprint),
    wait: resolveWait(where, overrides.wait, base.wait),
    leaseMs: positiveInteger(where, 'leaseMs', overrides.leaseMs, base.leaseMs),
    ttlMs: positiveInteger(where, 'ttlSeconds', overrides.ttlSeconds, base.ttlMs / 1000) * 1000,
    shouldStore: optionalFunction(where, 'shouldStore', overrides.shouldStore, base.shouldStore),
    replayHeaders,
    maxBodyBytes: positiveInteger(where, 'maxBodyBytes', overrides.maxBodyBytes, base.maxBodyBytes)
  }
}

const DEFAULT_ROUTE_SETTINGS: RouteSettings = {
  required: true,
  scope: undefined,
  fingerprint: defaultFingerprint,
  wait: undefined,
  leaseMs: 30_000,
  ttlMs: 86_400_000,
  shouldStore: isSuccess,
  replayHeaders: ['content-type', 'location', 'etag'],
  maxBodyBytes: 1024 * 1024
}

/** Validates the registration options and fills in defaults. */
export function resolveOptions(options: FastifyIdempotencyOptions): GlobalSettings {
  const where = 'option '
  const store = options.store
  if (store !== undefined && (store === null || typeof store !== 'object' || (['claim', 'renew', 'commit', 'release'] as const).some((name) => typeof store[name] !== 'function'))) {
    fail(where, 'store must implement claim, renew, commit and release')
  }
  if (options.redis !== undefined && typeof (options.redis as { defineCommand?: unknown } | null)?.defineCommand !== 'function') fail(where, 'redis must be an ioredis Redis or Cluster client')
  if (options.prefix !== undefined && typeof options.prefix !== 'string') fail(where, 'prefix must be a string')
  if (options.failMode !== undefined && options.failMode !== 'closed' && options.failMode !== 'open') fail(where, `failMode must be 'closed' or 'open', got ${String(options.failMode)}`)
  if (options.encryptionKey !== undefined && (!Buffer.isBuffer(options.encryptionKey) || options.encryptionKey.length !== 32)) fail(where, 'encryptionKey must be a Buffer of 32 bytes (AES-256)')
  return {
    store,
    redis: options.redis,
    prefix: options.prefix ?? 'idempotency:',
    timeoutMs: positiveInteger(where, 'timeoutMs', options.timeoutMs, 1000),
    failMode: options.failMode ?? 'closed',
    methods: new Set(lowerCaseNames(where, 'methods', options.methods, ['post', 'patch'], true).map((method) => method.toUpperCase())),
    headerNames: lowerCaseNames(where, 'headerNames', options.headerNames, ['idempotency-key', 'x-idempotency-key'], false),
    encryptionKey: options.encryptionKey,
    onEvent: optionalFunction(where, 'onEvent', options.onEvent, undefined),
    route: resolveRouteSettings(options, DEFAULT_ROUTE_SETTINGS, where)
  }
}
