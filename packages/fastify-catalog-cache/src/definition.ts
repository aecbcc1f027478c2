import { OptionReader, TimeoutError, type Timeouts } from '@moolah/plugin-kit'
import { createEntry, type CatalogEntry } from './entry.js'
import { CatalogInvalidValueError, CatalogLoadTimeoutError } from './errors.js'
import { PLUGIN, windows, type ResolvedOptions, type Windows } from './options.js'
import { findNonJson } from './plain-json.js'

export interface LoadContext {
  name: string
  /** Aborted when the load times out, so the loader can stop its I/O. */
  signal: AbortSignal
}

/** A named catalog. Times are in seconds, except `loadTimeoutMs`. */
export interface CatalogDefinition<T = unknown> {
  /** Produces the value. It must be plain JSON (see README); anything else is rejected at load time. */
  load: (context: LoadContext) => T | Promise<T>
  /**
   * Freshness in seconds.
   * @default the plugin's `ttl`
   */
  ttl?: number
  /**
   * Seconds after freshness during which the stale copy is served at once while one background load runs.
   * @default the plugin's `staleWhileRevalidate`
   */
  staleWhileRevalidate?: number
  /**
   * Seconds after freshness during which the stale copy is served when the loader fails.
   * @default the plugin's `staleIfError`
   */
  staleIfError?: number
  /**
   * Labels for `invalidate({ tag })`.
   * @default []
   */
  tags?: readonly string[]
  /**
   * Loader timeout in ms; must be below the plugin's `leaseMs`.
   * @default the plugin's `loadTimeoutMs`
   */
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

export function resolveDefinition(
  name: string,
  definition: CatalogDefinition,
  options: ResolvedOptions
): ResolvedDefinition {
  const where = `define('${name}')`
  const read = new OptionReader(PLUGIN, definition, where)
  if (typeof name !== 'string' || !NAME.test(name))
    read.fail(
      `catalog name must be 1-200 characters of letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(name)}`
    )
  if (typeof definition?.load !== 'function') read.fail(`${where}: load must be a function`)
  const tags = read.check<readonly string[]>(
    'tags',
    [],
    (value) => Array.isArray(value) && value.every((tag) => typeof tag === 'string'),
    'an array of strings'
  )
  const loadTimeoutMs = read.integer('loadTimeoutMs', options.loadTimeoutMs)
  if (loadTimeoutMs >= options.leaseMs)
    read.fail(`${where}: loadTimeoutMs (${loadTimeoutMs}) must be below leaseMs (${options.leaseMs})`)
  return { name, load: definition.load, tags: new Set(tags), loadTimeoutMs, ...windows(read, options) }
}

/**
 * Runs the loader within its timeout (aborting its signal when it runs out) and turns a plain
 * JSON value into an entry, its freshness shortened by up to `jitter` at random.
 */
export async function loadEntry(
  definition: ResolvedDefinition,
  generation: number,
  jitter: number,
  timeouts: Timeouts
): Promise<CatalogEntry> {
  const { name, load, loadTimeoutMs, ttl, staleWhileRevalidate, staleIfError } = definition
  const abort = new AbortController()
  let value: unknown
  try {
    value = await timeouts.run(
      Promise.resolve().then(() => load({ name, signal: abort.signal })),
      'load',
      loadTimeoutMs
    )
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error
    const timedOut = new CatalogLoadTimeoutError(name, loadTimeoutMs)
    abort.abort(timedOut)
    throw timedOut
  }
  const problem = findNonJson(value)
  if (problem !== undefined) throw new CatalogInvalidValueError(name, problem)
  const now = Date.now()
  const freshUntil = now + ttl * 1000 * (1 - jitter * Math.random())
  return createEntry(JSON.stringify(value), generation, {
    createdAt: now,
    freshUntil,
    staleUntil: freshUntil + staleWhileRevalidate * 1000,
    errorUntil: freshUntil + staleIfError * 1000
  })
}
