import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createEntry, decodeEntry, encodeEntry, retentionMs, type CatalogEntry } from './entry.js'
import { resolveDefinition, type CatalogDefinition, type ResolvedDefinition } from './definition.js'
import { CatalogInvalidValueError, CatalogLoadTimeoutError, CatalogNotDefinedError, CatalogStoreUnavailableError, DependencyUnavailableError } from './errors.js'
import type { CatalogCacheEvent, StaleReason, StoreOperation } from './events.js'
import { BoundedL1 } from './l1.js'
import { LoadWaiters } from './load-waiters.js'
import type { ResolvedOptions } from './options.js'
import { findNonJson } from './plain-json.js'
import { buildResult, type CatalogResult, type Obtained } from './result.js'
import { withTimeout } from './with-timeout.js'

/** Per-name state of this instance. */
interface Slot {
  definition: ResolvedDefinition
  /** The foreground load every concurrent caller joins (single-flight). */
  inflight: Promise<Obtained> | undefined
  refreshing: boolean
  failures: number
  retryAt: number
  lastError: unknown
  /** Bumped by every invalidation, so a load that started before it does not refill L1. */
  generation: number
  /** The last L1-hit result, reused (frozen) until its whole-second age or ttl changes: the hot path allocates nothing. */
  lastHit: { entry: CatalogEntry, validUntil: number, result: CatalogResult } | undefined
}

interface Message {
  /** Sending instance. */
  o: string
  t: 'invalidate' | 'loaded'
  n: string[]
}

const WAIT_FIRST_MS = 10
const WAIT_MAX_MS = 100

/** The cache behind `fastify.catalogCache`. */
export class CatalogCache {
  readonly #options: ResolvedOptions
  readonly #slots = new Map<string, Slot>()
  readonly #l1: BoundedL1
  readonly #waiters = new LoadWaiters()
  readonly #instanceId = randomUUID()
  readonly #log: (message: string, error: unknown) => void

  constructor(options: ResolvedOptions, log: (message: string, error: unknown) => void) {
    this.#options = options
    this.#l1 = new BoundedL1(options.l1MaxEntries)
    this.#log = log
  }

  /** Declares a catalog and its loader. Nothing is loaded until the first get(). */
  define<T>(name: string, definition: CatalogDefinition<T>): void {
    if (this.#slots.has(name)) throw new TypeError(`@moolah/fastify-catalog-cache: catalog '${name}' is already defined`)
    const resolved = resolveDefinition(name, definition as CatalogDefinition, this.#options)
    this.#slots.set(name, { definition: resolved, inflight: undefined, refreshing: false, failures: 0, retryAt: 0, lastError: undefined, generation: 0, lastHit: undefined })
  }

  has(name: string): boolean {
    return this.#slots.has(name)
  }

  /** The catalog from the nearest tier that has a usable copy, loading it (once across instances) when none has. */
  async get<T = unknown>(name: string): Promise<CatalogResult<T>> {
    return this.peek<T>(name) ?? this.#deliver<T>(name, await this.#fetch(this.#slot(name)))
  }

  /** The in-memory copy when it may be served right now (fresh, or stale inside a window), else undefined. Synchronous. */
  peek<T = unknown>(name: string): CatalogResult<T> | undefined {
    const slot = this.#slot(name)
    const entry = this.#l1.get(name)
    if (entry === undefined) return undefined
    const now = Date.now()
    if (now < entry.freshUntil) return this.#hit<T>(slot, entry, now)
    if (now < entry.staleUntil) {
      this.#revalidate(slot)
      return this.#deliver(name, { entry, state: 'stale', tier: 'l1', staleReason: 'revalidating' }, now)
    }
    // Past stale-while-revalidate: the loader gets a (blocking) try, unless it failed a moment ago
    if (now < entry.errorUntil && now < slot.retryAt) return this.#deliver(name, { entry, state: 'stale', tier: 'l1', staleReason: 'error' }, now)
    return undefined
  }

  /** Drops the copies of one catalog (or of every catalog with `tag`) on every instance. Resolves with the names dropped. */
  async invalidate(target: string | { tag: string }): Promise<string[]> {
    const names = typeof target === 'string' ? [this.#slot(target).definition.name] : this.#namesTagged(target.tag)
    for (const name of names) this.#drop(name)
    const failures: unknown[] = []
    await Promise.all(names.map((name) => this.#call('invalidate', () => this.#options.store.invalidate(name, false)).catch((error: unknown) => { failures.push(error) })))
    await this.#broadcast('invalidate', names).catch((error: unknown) => { failures.push(error) })
    this.#emit({ type: 'invalidation', names, origin: 'local' })
    if (failures.length > 0) throw this.#storeUnavailable('invalidate', failures[0])
    return names
  }

  /**
   * Loads the catalog now (old copies keep being served meanwhile), stores it and makes every
   * instance switch to it. If the loader fails, the old copies stay and the error is thrown.
   */
  async refresh<T = unknown>(name: string): Promise<CatalogResult<T>> {
    const slot = this.#slot(name)
    let generation: number | undefined
    let storeError: unknown
    try {
      generation = await this.#call('invalidate', () => this.#options.store.invalidate(name, true))
    } catch (error) {
      storeError = error
    }
    slot.generation++
    slot.inflight = undefined
    let obtained: Obtained
    try {
      obtained = generation === undefined ? await this.#loadLocally(slot) : await this.#loadShared(slot, generation)
    } catch (error) {
      throw this.#unavailable(slot, error)
    }
    await this.#broadcast('invalidate', [name]).catch((error: unknown) => { storeError ??= error })
    if (storeError !== undefined) throw this.#storeUnavailable('refresh', storeError)
    return this.#deliver(name, obtained)
  }

  /**
   * Starts listening for invalidations from other instances (used by the plugin at
   * registration). Resolves, at the latest after `waitMs`, with the function that stops it.
   */
  listen(waitMs: number): Promise<() => Promise<void>> {
    return this.#options.store.subscribe({
      onMessage: (message) => this.#onMessage(message),
      onResync: () => this.#onResync(),
      onError: (error) => this.#emit({ type: 'store-error', operation: 'subscribe', error })
    }, waitMs)
  }

  #onMessage(raw: string): void {
    const message = parseMessage(raw)
    if (message === undefined) {
      this.#emit({ type: 'store-error', operation: 'subscribe', error: new Error(`catalog cache: ignored a malformed message: ${raw.slice(0, 200)}`) })
      return
    }
    if (message.t === 'loaded') {
      for (const name of message.n) this.#waiters.wake(name)
    } else if (message.o !== this.#instanceId) {
      const names = message.n.filter((name) => this.#slots.has(name))
      for (const name of names) this.#drop(name)
      this.#emit({ type: 'invalidation', names, origin: 'remote' })
    }
  }

  /** Called when the subscription is (re)established: messages may have been missed, so L1 cannot be trusted. */
  #onResync(): void {
    if (this.#l1.size === 0) return
    const names = [...this.#slots.keys()]
    for (const name of names) this.#drop(name)
    this.#emit({ type: 'invalidation', names, origin: 'resync' })
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name)
    if (slot === undefined) throw new CatalogNotDefinedError(name)
    return slot
  }

  #namesTagged(tag: string): string[] {
    return [...this.#slots.values()].filter((slot) => slot.definition.tags.has(tag)).map((slot) => slot.definition.name)
  }

  #drop(name: string): void {
    const slot = this.#slot(name)
    slot.generation++
    slot.inflight = undefined
    this.#l1.delete(name)
  }

  #fetch(slot: Slot): Promise<Obtained> {
    if (slot.inflight !== undefined) return slot.inflight
    const inflight = this.#resolve(slot).finally(() => {
      if (slot.inflight === inflight) slot.inflight = undefined
    })
    slot.inflight = inflight
    return inflight
  }

  /** Foreground: L2, else one load across instances; on failure the best copy still inside stale-if-error. */
  async #resolve(slot: Slot): Promise<Obtained> {
    const inL1 = this.#l1.get(slot.definition.name)
    const fallback = { entry: inL1 }
    try {
      return await this.#obtain(slot, true, fallback)
    } catch (error) {
      const entry = fallback.entry
      if (entry !== undefined && Date.now() < entry.errorUntil) {
        this.#fill(slot, entry, slot.generation)
        return { entry, state: 'stale', tier: entry === inL1 ? 'l1' : 'l2', staleReason: 'error' }
      }
      throw this.#unavailable(slot, error)
    }
  }

  /** Background stale-while-revalidate: at most one per instance, none while backing off after a failure. */
  #revalidate(slot: Slot): void {
    if (slot.refreshing || Date.now() < slot.retryAt) return
    slot.refreshing = true
    this.#obtain(slot, false, { entry: undefined })
      .catch(() => { /* already reported as load-error; the stale copy keeps being served */ })
      .finally(() => { slot.refreshing = false })
  }

  async #obtain(slot: Slot, acceptStale: boolean, fallback: { entry: CatalogEntry | undefined }): Promise<Obtained> {
    const generation = slot.generation
    let stored: CatalogEntry | undefined
    let storeDown = false
    try {
      stored = await this.#read(slot.definition.name)
    } catch {
      storeDown = true
    }
    const now = Date.now()
    if (stored !== undefined) {
      if (now < stored.freshUntil) {
        this.#fill(slot, stored, generation)
        return { entry: stored, state: 'hit', tier: 'l2' }
      }
      if (acceptStale && now < stored.staleUntil) {
        this.#fill(slot, stored, generation)
        this.#revalidate(slot)
        return { entry: stored, state: 'stale', tier: 'l2', staleReason: 'revalidating' }
      }
      if (now < stored.errorUntil && stored.createdAt > (fallback.entry?.createdAt ?? 0)) fallback.entry = stored
    }
    if (now < slot.retryAt) throw slot.lastError
    return storeDown ? this.#loadLocally(slot) : this.#loadShared(slot, 0)
  }

  /**
   * One load across instances: whoever takes the lock loads and stores; the others wait
   * (woken by the 'loaded' message, else polling with growing intervals) for an entry of
   * at least `minGeneration`. A lock that outlives its lease is treated as abandoned.
   */
  async #loadShared(slot: Slot, minGeneration: number): Promise<Obtained> {
    const { name } = slot.definition
    const { store, lockTtlMs } = this.#options
    const token = randomUUID()
    const deadline = Date.now() + lockTtlMs
    for (let waitMs = WAIT_FIRST_MS; ; waitMs = Math.min(waitMs * 2, WAIT_MAX_MS)) {
      let generation: number | undefined
      let stored: CatalogEntry | undefined
      try {
        generation = await this.#call('lock', () => store.lock(name, token, lockTtlMs))
        if (generation !== undefined) {
          try {
            return await this.#loadAndStore(slot, generation)
          } finally {
            this.#call('unlock', () => store.unlock(name, token)).catch(() => { /* reported; the lease expires anyway */ })
          }
        }
        if (Date.now() >= deadline) return await this.#loadLocally(slot)
        await this.#waiters.wait(name, waitMs)
        stored = await this.#read(name)
      } catch (error) {
        if (!(error instanceof StoreError)) throw error
        return this.#loadLocally(slot)
      }
      if (stored !== undefined && Date.now() < stored.freshUntil && stored.generation >= minGeneration) {
        this.#fill(slot, stored, slot.generation)
        return { entry: stored, state: 'miss', tier: 'l2' }
      }
    }
  }

  async #loadAndStore(slot: Slot, generation: number): Promise<Obtained> {
    const { name } = slot.definition
    const startGeneration = slot.generation
    const entry = await this.#load(slot, generation)
    let stored: boolean | undefined
    try {
      stored = await this.#call('write', () => this.#options.store.write(name, generation, encodeEntry(entry), retentionMs(entry, Date.now())))
    } catch {
      stored = undefined // Redis went away mid-load: keep the value in L1 at least
    }
    // false: an invalidation came in while loading, so this value may already be outdated
    if (stored !== false) this.#fill(slot, entry, startGeneration)
    if (stored === true) this.#broadcast('loaded', [name]).catch(() => { /* waiters poll as well */ })
    return { entry, state: 'miss', tier: 'loader' }
  }

  /** Redis unusable: this instance loads on its own and keeps the result in L1. */
  async #loadLocally(slot: Slot): Promise<Obtained> {
    const startGeneration = slot.generation
    const entry = await this.#load(slot, 0)
    this.#fill(slot, entry, startGeneration)
    return { entry, state: 'miss', tier: 'loader' }
  }

  async #load(slot: Slot, generation: number): Promise<CatalogEntry> {
    const { name, load, loadTimeoutMs, ttl, staleWhileRevalidate, staleIfError } = slot.definition
    const started = performance.now()
    const abort = new AbortController()
    try {
      const value = await withTimeout(Promise.resolve().then(() => load({ name, signal: abort.signal })), loadTimeoutMs, () => {
        const error = new CatalogLoadTimeoutError(name, loadTimeoutMs)
        abort.abort(error)
        return error
      })
      const problem = findNonJson(value)
      if (problem !== undefined) throw new CatalogInvalidValueError(name, problem)
      const now = Date.now()
      const freshUntil = now + ttl * 1000 * (1 - this.#options.jitter * Math.random())
      const entry = createEntry(JSON.stringify(value), generation, {
        createdAt: now,
        freshUntil,
        staleUntil: freshUntil + staleWhileRevalidate * 1000,
        errorUntil: freshUntil + staleIfError * 1000
      })
      slot.failures = 0
      slot.retryAt = 0
      this.#emit({ type: 'load', name, durationMs: performance.now() - started, version: entry.version })
      return entry
    } catch (error) {
      slot.failures++
      slot.lastError = error
      slot.retryAt = Date.now() + Math.min(this.#options.retryBackoffMs * 2 ** (slot.failures - 1), this.#options.retryBackoffMaxMs)
      this.#emit({ type: 'load-error', name, durationMs: performance.now() - started, error })
      this.#log(`catalog cache: loading '${name}' failed`, error)
      throw error
    }
  }

  #fill(slot: Slot, entry: CatalogEntry, startGeneration: number): void {
    if (slot.generation === startGeneration) this.#l1.set(slot.definition.name, entry)
  }

  async #read(name: string): Promise<CatalogEntry | undefined> {
    const payload = await this.#call('read', () => this.#options.store.read(name))
    if (payload === undefined) return undefined
    try {
      return decodeEntry(payload)
    } catch (error) {
      this.#emit({ type: 'store-error', operation: 'read', error })
      throw new StoreError('read', error)
    }
  }

  async #broadcast(type: Message['t'], names: string[]): Promise<void> {
    const message: Message = { o: this.#instanceId, t: type, n: names }
    await this.#call('publish', () => this.#options.store.publish(JSON.stringify(message)))
  }

  /** Every store call: bounded by `timeoutMs`, failures reported and turned into a StoreError. */
  async #call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const { timeoutMs } = this.#options
    try {
      return await withTimeout(run(), timeoutMs, () => new Error(`store ${operation} timed out after ${timeoutMs} ms`))
    } catch (error) {
      this.#emit({ type: 'store-error', operation, error })
      throw new StoreError(operation, error)
    }
  }

  /** The loader's error was logged when the load failed; here it is only the cause. */
  #unavailable(slot: Slot, error: unknown): Error {
    const retryAfter = Math.max(1, Math.ceil((slot.retryAt - Date.now()) / 1000))
    return Object.assign(new DependencyUnavailableError(slot.definition.name, { cause: error }), { retryAfter })
  }

  /** Redis usually comes back within seconds: retrying the invalidation/refresh after 1 s is reasonable. */
  #storeUnavailable(operation: 'invalidate' | 'refresh', cause: unknown): Error {
    this.#log(`catalog cache: ${operation} could not update the store; the change was applied to this instance only`, cause)
    return Object.assign(new CatalogStoreUnavailableError({ cause }), { retryAfter: 1 })
  }

  #hit<T>(slot: Slot, entry: CatalogEntry, now: number): CatalogResult<T> {
    const memo = slot.lastHit
    if (memo !== undefined && memo.entry === entry && now < memo.validUntil) {
      if (this.#options.onEvent !== undefined) this.#emit({ type: 'hit', name: slot.definition.name, tier: 'l1' })
      return memo.result as CatalogResult<T>
    }
    const result = Object.freeze(this.#deliver<T>(slot.definition.name, { entry, state: 'hit', tier: 'l1' }, now))
    slot.lastHit = { entry, validUntil: Math.min(entry.freshUntil - result.ttl * 1000, entry.createdAt + (result.age + 1) * 1000), result }
    return result
  }

  #deliver<T>(name: string, obtained: Obtained, now = Date.now()): CatalogResult<T> {
    if (this.#options.onEvent !== undefined) {
      const { state, tier, staleReason } = obtained
      if (state === 'hit') this.#emit({ type: 'hit', name, tier: tier as 'l1' | 'l2' })
      else if (state === 'miss') this.#emit({ type: 'miss', name, tier: tier as 'l2' | 'loader' })
      else this.#emit({ type: 'stale', name, reason: staleReason as StaleReason })
    }
    return buildResult<T>(name, obtained, now, this.#options.cacheStatusName)
  }

  #emit(event: CatalogCacheEvent): void {
    const { onEvent } = this.#options
    if (onEvent === undefined) return
    try {
      onEvent(event)
    } catch (error) {
      this.#log('catalog cache: onEvent threw', error)
    }
  }
}

/** A store call that failed or timed out: the cache falls back to L1 and the loader. */
class StoreError extends Error {
  constructor(operation: StoreOperation, cause: unknown) {
    super(`catalog cache store ${operation} failed`, { cause })
  }
}

/** Messages come from other processes (or anyone who can PUBLISH): checked before use. */
function parseMessage(raw: string): Message | undefined {
  try {
    const message = JSON.parse(raw) as Partial<Message> | null
    const valid = typeof message?.o === 'string' && (message.t === 'invalidate' || message.t === 'loaded') &&
      Array.isArray(message.n) && message.n.every((name) => typeof name === 'string')
    return valid ? message as Message : undefined
  } catch {
    return undefined
  }
}
