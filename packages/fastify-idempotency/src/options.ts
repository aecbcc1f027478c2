import { FAIL_MODES, OptionReader, type FailMode, type RedisClient } from '@moolah/plugin-kit'
import type { FastifyRequest } from 'fastify'
import type { IdempotencyEvent } from './events.js'
import { defaultFingerprint } from './request-identity.js'
import type { IdempotencyStore } from './stores/store.js'

export const PLUGIN = '@moolah/fastify-idempotency'

export type ScopeFunction = (request: FastifyRequest) => string | Promise<string>
export type FingerprintFunction = (request: FastifyRequest) => string | Promise<string>

export interface WaitOptions {
  /**
   * Longest wait for the in-flight request, in ms, before answering 409.
   * @default 5000
   */
  maxMs?: number
  /**
   * Pause between looks at the record, in ms.
   * @default 50
   */
  intervalMs?: number
}

/** Settings a route may override through `config: { idempotency: { … } }`. Durations in ms end in `Ms`. */
export interface IdempotencyRouteOptions {
  /**
   * Whether a request without a key is refused (400) or simply runs without idempotency.
   * @default true
   */
  required?: boolean
  /**
   * The principal the key belongs to, e.g. the authenticated user id. Without it every client
   * of a route shares the key space (a warning is logged at registration).
   * @default undefined
   */
  scope?: ScopeFunction
  /**
   * Identifies "the same request".
   * @default defaultFingerprint: sha256 of method, path and query string as received, and the canonical JSON body
   */
  fingerprint?: FingerprintFunction
  /**
   * Wait for an in-flight request with the same key and replay its result instead of answering 409.
   * `true` is `{ maxMs: 5000, intervalMs: 50 }`.
   * @default false
   */
  wait?: boolean | WaitOptions
  /**
   * Lease of an in-flight claim, in ms, renewed every third of it while the handler runs.
   * @default 30000
   */
  leaseMs?: number
  /**
   * How long a completed response is kept for replay, in seconds.
   * @default 86400
   */
  ttlSeconds?: number
  /**
   * Which statuses are stored; any other releases the key.
   * @default (statusCode) => statusCode >= 200 && statusCode < 300
   */
  shouldStore?: (statusCode: number) => boolean
  /**
   * Response headers stored and replayed (besides the status and body).
   * @default ['content-type', 'location', 'etag']
   */
  replayHeaders?: string[]
  /**
   * Largest body stored, in bytes; a larger one is sent but not stored, and the key is released.
   * @default 1048576
   */
  maxBodyBytes?: number
}

export interface IdempotencyOptions extends IdempotencyRouteOptions {
  /**
   * Where records live. Give `redis` (or nothing) instead to get the built-in stores; `redis`
   * and `prefix` next to a custom store are a TypeError.
   * @default a RedisIdempotencyStore on `redis` (or `fastify.redis`), else a MemoryIdempotencyStore
   */
  store?: IdempotencyStore
  /**
   * An ioredis `Redis` or `Cluster` (Redis ≥ 7.0) for the default store. The plugin never closes it.
   * @default fastify.redis, when @fastify/redis is registered before this plugin
   */
  redis?: RedisClient
  /**
   * Prefix of the default Redis store's keys. No `{` or `}`.
   * @default 'idempotency:'
   */
  prefix?: string
  /**
   * Timeout of every store call (claim, renew, commit, release), in ms.
   * @default 1000
   */
  timeoutMs?: number
  /**
   * When the claim fails or times out: 'closed' answers 503 DEPENDENCY_UNAVAILABLE, 'open' runs
   * the request without idempotency.
   * @default 'closed'
   */
  failMode?: FailMode
  /**
   * Observability hook; exceptions it throws are caught and logged (error).
   * @default undefined
   */
  onEvent?: (event: IdempotencyEvent) => void
  /**
   * Methods that take part without a route opting in.
   * @default ['POST', 'PATCH']
   */
  methods?: string[]
  /**
   * Request headers read for the key; aliases that disagree make the key invalid.
   * @default ['idempotency-key', 'x-idempotency-key']
   */
  headerNames?: string[]
  /**
   * 32-byte key: stored responses are encrypted with AES-256-GCM.
   * @default undefined
   */
  encryptionKey?: Buffer
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

/** Everything but the store, validated and with defaults. */
export interface ResolvedOptions {
  timeoutMs: number
  failMode: FailMode
  onEvent: ((event: IdempotencyEvent) => void) | undefined
  methods: Set<string>
  headerNames: string[]
  encryptionKey: Buffer | undefined
  route: RouteSettings
}

// Never replayed: they belong to the original exchange (credentials, cookies) or are
// recomputed for every response (framing).
const FORBIDDEN_REPLAY_HEADERS = new Set([
  'set-cookie',
  'cookie',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'content-length',
  'transfer-encoding',
  'connection',
  'idempotent-replayed'
])

const DEFAULT_WAIT: Required<WaitOptions> = { maxMs: 5000, intervalMs: 50 }

const DEFAULT_ROUTE_SETTINGS: RouteSettings = {
  required: true,
  scope: undefined,
  fingerprint: defaultFingerprint,
  wait: undefined,
  leaseMs: 30_000,
  ttlMs: 86_400_000,
  shouldStore: (statusCode) => statusCode >= 200 && statusCode < 300,
  replayHeaders: ['content-type', 'location', 'etag'],
  maxBodyBytes: 1024 * 1024
}

/** Validates the options (not the store ones: see selectStore) and fills in the defaults. */
export function resolveOptions(options: IdempotencyOptions): ResolvedOptions {
  const read = new OptionReader(PLUGIN, options)
  return {
    timeoutMs: read.integer('timeoutMs', 1000),
    failMode: read.oneOf('failMode', FAIL_MODES, 'closed'),
    onEvent: read.optionalFunction('onEvent'),
    methods: new Set(
      headerLikeNames(read, 'methods', ['post', 'patch'], true).map((method) => method.toUpperCase())
    ),
    headerNames: headerLikeNames(read, 'headerNames', ['idempotency-key', 'x-idempotency-key'], false),
    encryptionKey: read.check<Buffer | undefined>(
      'encryptionKey',
      undefined,
      (value) => value === undefined || (Buffer.isBuffer(value) && value.length === 32),
      'a Buffer of 32 bytes (AES-256)'
    ),
    route: resolveRouteSettings(options, DEFAULT_ROUTE_SETTINGS, 'options')
  }
}

/**
 * Applies `overrides` (the registration options, or a route's `config.idempotency`) on top of
 * `base`; `where` names them in messages.
 */
export function resolveRouteSettings(
  overrides: IdempotencyRouteOptions,
  base: RouteSettings,
  where: string
): RouteSettings {
  const read = new OptionReader(PLUGIN, overrides, where)
  const replayHeaders = headerLikeNames(read, 'replayHeaders', base.replayHeaders, true)
  const forbidden = replayHeaders.find((name) => FORBIDDEN_REPLAY_HEADERS.has(name))
  if (forbidden !== undefined)
    read.fail(`${where}.replayHeaders must not include ${forbidden}: it is never replayed`)
  return {
    required: read.check('required', base.required, (value) => typeof value === 'boolean', 'a boolean'),
    scope: read.optionalFunction<ScopeFunction>('scope') ?? base.scope,
    fingerprint: read.optionalFunction<FingerprintFunction>('fingerprint') ?? base.fingerprint,
    wait: resolveWait(read, base.wait, where),
    leaseMs: read.integer('leaseMs', base.leaseMs),
    ttlMs: read.integer('ttlSeconds', base.ttlMs / 1000) * 1000,
    shouldStore: read.optionalFunction<(statusCode: number) => boolean>('shouldStore') ?? base.shouldStore,
    replayHeaders,
    maxBodyBytes: read.integer('maxBodyBytes', base.maxBodyBytes)
  }
}

function resolveWait(
  read: OptionReader<IdempotencyRouteOptions>,
  fallback: Required<WaitOptions> | undefined,
  where: string
): Required<WaitOptions> | undefined {
  const wait = read.check<IdempotencyRouteOptions['wait']>(
    'wait',
    fallback,
    (value) =>
      value === undefined || typeof value === 'boolean' || (typeof value === 'object' && value !== null),
    'a boolean or { maxMs?, intervalMs? }'
  )
  if (wait === undefined || wait === false) return undefined
  if (wait === true) return DEFAULT_WAIT
  const readWait = new OptionReader(PLUGIN, wait, `${where}.wait`)
  return {
    maxMs: readWait.integer('maxMs', DEFAULT_WAIT.maxMs),
    intervalMs: readWait.integer('intervalMs', DEFAULT_WAIT.intervalMs)
  }
}

/** Lower-cased names (methods, headers). */
function headerLikeNames<O extends object>(
  read: OptionReader<O>,
  key: keyof O & string,
  fallback: string[],
  allowEmpty: boolean
): string[] {
  const isValid = (value: unknown): boolean =>
    Array.isArray(value) &&
    (allowEmpty || value.length > 0) &&
    value.every((item) => typeof item === 'string' && item !== '')
  const names = read.check<string[]>(
    key,
    fallback,
    isValid,
    allowEmpty ? 'an array of non-empty strings' : 'an array of at least one non-empty string'
  )
  return names.map((name) => name.toLowerCase())
}
