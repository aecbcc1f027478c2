import type { FastifyInstance } from 'fastify'
import { OptionReader } from './options.js'

/**
 * An ioredis client, a single node (`Redis`) or a `Cluster`, of ioredis 5 or 6, by the members
 * the plugins check. Structural rather than imported: ioredis is an optional peer, and these
 * types must compile where it is not installed.
 */
export interface RedisClient {
  readonly isCluster: boolean
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void
  duplicate(): unknown
}

/** The options every plugin reads to find its store. */
export interface StoreOptions<S> {
  store?: S
  redis?: RedisClient
  prefix?: string
}

/** How a plugin checks a custom store and makes its own. */
export interface StoreKind<S> {
  /** The plugin's package name: the start of every TypeError. */
  plugin: string
  /** The store interface, for messages (`CatalogCacheStore`). */
  name: string
  /** Methods a custom `store` must have. */
  methods: readonly string[]
  memory(): S
  /** `prefix` is undefined when not given: the store applies its own default. */
  redis(options: { redis: RedisClient; prefix: string | undefined }): S
}

/**
 * The store a plugin uses: `store` as given, else a Redis store on `redis`, else on
 * `fastify.redis` (@fastify/redis, registered before the plugin), else a memory store. A store
 * made here is closed at onClose when it has `close()`; a given one stays its owner's. An
 * option that would be ignored (`redis` or `prefix` next to `store`) is a TypeError rather
 * than a silent surprise: a custom store takes its prefix in its own constructor.
 */
export function selectStore<S extends object>(
  fastify: FastifyInstance,
  options: StoreOptions<S>,
  kind: StoreKind<S>
): S {
  const read = new OptionReader(kind.plugin, options)
  const { store } = options
  if (store !== undefined) {
    const missing = kind.methods.filter(
      (method) => typeof (store as Record<string, unknown> | null)?.[method] !== 'function'
    )
    if (missing.length > 0)
      read.fail(`options.store must implement ${kind.name}; missing ${missing.join(', ')}`)
    for (const ignored of ['redis', 'prefix'] as const) {
      if (options[ignored] !== undefined)
        read.fail(
          `options.${ignored} would be ignored next to options.store; give it to the store's constructor instead`
        )
    }
    return store
  }
  // The resource goes into a {hash tag} after the prefix; a brace in the prefix would become the tag
  const prefix = read.check<string | undefined>(
    'prefix',
    undefined,
    (value) => value === undefined || (typeof value === 'string' && !/[{}]/.test(value)),
    'a string without { or }'
  )
  const redis =
    options.redis !== undefined
      ? redisClient(read, options.redis, 'options.redis', '')
      : fastify.hasDecorator('redis')
        ? redisClient(
            read,
            (fastify as unknown as { redis: unknown }).redis,
            'fastify.redis',
            ' (@fastify/redis with a namespace? pass options.redis)'
          )
        : undefined
  const created = redis === undefined ? kind.memory() : kind.redis({ redis, prefix })
  const { close } = created as { close?: unknown }
  if (typeof close === 'function')
    fastify.addHook('onClose', async () => {
      await close.call(created)
    })
  return created
}

function redisClient(read: OptionReader<object>, value: unknown, what: string, hint: string): RedisClient {
  const client = value as Partial<Record<'defineCommand' | 'duplicate', unknown>> | null
  if (typeof client?.defineCommand !== 'function' || typeof client.duplicate !== 'function')
    read.fail(`${what} must be an ioredis Redis or Cluster client${hint}`)
  return value as RedisClient
}
