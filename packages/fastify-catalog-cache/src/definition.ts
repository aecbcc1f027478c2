import { fail, positiveInteger, windows, type ResolvedOptions, type Windows } from './options.js'

export interface LoadContext {
  name: string
  /** Aborted when the load times out, so the loader can stop its I/O. */
  signal: AbortSignal
}

/** A named catalog. Times are in seconds, except `loadTimeoutMs`. */
export interface CatalogDefinition<T = unknown> {
  /** Produces the value. It must be plain JSON (see README); anything else is rejected at load time. */
  load: (context: LoadContext) => T | Promise<T>
  /** Freshness in seconds. Default: the plugin's `ttl`. */
  ttl?: number
  /** Seconds after freshness during which the stale copy is served at once while one background load runs. */
  staleWhileRevalidate?: number
  /** Seconds after freshness during which the stale copy is served when the loader fails. */
  staleIfError?: number
  /** Labels for `invalidate({ tag })`. */
  tags?: readonly string[]
  /** Loader timeout in ms. Default: the plugin's `loadTimeoutMs`. */
  loadTimeoutMs?: number
}

export interface ResolvedDefinition extends Windows {
  name: string
  load: (context: LoadContext) => unknown
  tags: ReadonlySet<string>
  loadTimeoutMs: number
}

// Names become part of Redis keys inside a {hash tag}, so braces and spaces are out
const NAME = /^[\w.:-]{1,200}$/

export function resolveDefinition(name: string, definition: CatalogDefinition, options: ResolvedOptions): ResolvedDefinition {
  if (typeof name !== 'string' || !NAME.test(name)) fail(`catalog name must be 1-200 characters of letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(name)}`)
  const where = `define('${name}')`
  if (typeof definition?.load !== 'function') fail(`${where}: load must be a function`)
  const tags = definition.tags ?? []
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) fail(`${where}: tags must be an array of strings`)
  const loadTimeoutMs = positiveInteger(definition, 'loadTimeoutMs', options.loadTimeoutMs, where)
  if (loadTimeoutMs >= options.lockTtlMs) fail(`${where}: loadTimeoutMs (${loadTimeoutMs}) must be below lockTtlMs (${options.lockTtlMs})`)
  return { name, load: definition.load, tags: new Set(tags), loadTimeoutMs, ...windows(definition, options, where) }
}
