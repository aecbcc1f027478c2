import { performance } from 'node:perf_hooks'
import {
  DependencyUnavailableError,
  safeEmitter,
  Timeouts,
  withRetryAfter,
  type Subscription
} from '@moolah/plugin-kit'
import type { FastifyBaseLogger } from 'fastify'
import {
  loadEntry,
  resolveDefinition,
  type CatalogDefinition,
  type ResolvedDefinition
} from './definition.js'
import type { CatalogEntry } from './entry.js'
import {
  APPLIED_LOCALLY,
  catalogUnavailable,
  CatalogNotDefinedError,
  NOT_APPLIED,
  storeUnavailable
} from './errors.js'
import type { CatalogCacheEvent, StaleReason } from './events.js'
import { freshness, lastResort } from './freshness.js'
import { BoundedL1 } from './l1.js'
import { L2, StoreError } from './l2.js'
import { PLUGIN, type ResolvedOptions } from './options.js'
import { buildResult, type CatalogResult, type Obtained } from './result.js'
import { SharedLoads, type SharedCopy } from './shared-load.js'
import type { CatalogCacheStore } from './stores/store.js'

/** Per-name state of this instance. */
interface Slot {
  definition: ResolvedDefinition
  /** The foreground load every concurrent caller joins (single-flight). */
  inflight: Promise<Obtained> | undefined
  /** A background (stale-while-revalidate) load is running. */
  refreshing: boolean
  /** Bumped by every invalidation, so a load that started before it does not refill L1. */
  generation: number
  /** Failed loads in a row; until `retryAt` the loader is not tried again in the foreground. */
  failures: number
  retryAt: number
  lastError: unknown
  /** The last L1-hit result, reused (frozen) until its whole-second age or ttl changes: the hot path allocates nothing. */
  lastHit: { entry: CatalogEntry; validUntil: number; result: CatalogResult } | undefined
}

/**
 * The cache behind `fastify.catalogCache`: L1 in this process, L2 in the store, the loader
 * behind both. This class decides which tier answers; the store plumbing is in l2.ts, the
 * cross-instance load in shared-load.ts, what a copy may still be used for in freshness.ts.
 */
export class CatalogCache {
  readonly #options: ResolvedOptions
  readonly #slots = new Map<string, Slot>()
  readonly #l1: BoundedL1
  readonly #l2: L2
  readonly #loads: SharedLoads
  /** Deadlines of store calls and loads, on one timer. */
  readonly #timeouts: Timeouts
  readonly #log: FastifyBaseLogger
  readonly #emit: ((event: CatalogCacheEvent) => void) | undefined

  constructor(store: CatalogCacheStore, options: ResolvedOptions, log: FastifyBaseLogger) {
    this.#options = options
    this.#log = log
    this.#emit = safeEmitter(options.onEvent, log, PLUGIN)
    this.#timeouts = new Timeouts(options.timeoutMs)
    this.#l1 = new BoundedL1(options.l1MaxEntries)
    this.#l2 = new L2(store, this.#timeouts, (operation, error) =>
      this.#emit?.({ type: 'store-error', operation, error })
    )
    this.#loads = new SharedLoads(this.#l2, options.leaseMs)
  }

  /** Declares a catalog and its loader. Nothing is loaded until the first get(). */
  define<T>(name: string, definition: CatalogDefinition<T>): void {
    if (this.#slots.has(name)) throw new TypeError(`${PLUGIN}: catalog '${name}' is already defined`)
    const resolved = resolveDefinition(name, definition as CatalogDefinition, this.#options)
    this.#slots.set(name, {
      definition: resolved,
      inflight: undefined,
      refreshing: false,
      generation: 0,
      failures: 0,
      retryAt: 0,
      lastError: undefined,
      lastHit: undefined
    })
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
    switch (freshness(entry, now)) {
      case 'fresh':
        return this.#hit<T>(slot, entry, now)
      case 'stale':
        this.#revalidate(slot)
        return this.#deliver(name, { entry, state: 'stale', tier: 'l1', staleReason: 'revalidating' }, now)
      case 'error':
        // The loader failed a moment ago: no blocking retry until the backoff ends
        if (now < slot.retryAt)
          return this.#deliver(name, { entry, state: 'stale', tier: 'l1', staleReason: 'error' }, now)
    }
    return undefined
  }

  /** Drops the copies of one catalog (or of every catalog with `tag`) on every instance. Resolves with the names dropped. */
  async invalidate(target: string | { tag: string }): Promise<string[]> {
    const names =
      typeof target === 'string' ? [this.#slot(target).definition.name] : this.#namesTagged(target.tag)
    for (const name of names) this.#drop(name)
    const failures: unknown[] = []
    await Promise.all(
      names.map((name) =>
        this.#l2.invalidate(name, false).catch((error: unknown) => {
          failures.push(error)
        })
      )
    )
    await this.#l2.broadcast('invalidate', names).catch((error: unknown) => {
      failures.push(error)
    })
    this.#emit?.({ type: 'invalidation', names, origin: 'local' })
    if (failures.length > 0) throw this.#storeUnavailable('invalidate', failures[0], APPLIED_LOCALLY)
    return names
  }

  /**
   * Loads the catalog now (old copies keep being served meanwhile), stores it and makes every
   * instance switch to it. If the loader fails, the old copies stay and the error is thrown.
   */
  async refresh<T = unknown>(name: string): Promise<CatalogResult<T>> {
    const slot = this.#slot(name)
    let generation = 0
    let storeError: unknown
    try {
      generation = await this.#l2.invalidate(name, true)
    } catch (error) {
      // No load without the store's lock: the old copies stay, here and everywhere
      if (this.#options.failMode === 'closed') throw this.#storeUnavailable('refresh', error, NOT_APPLIED)
      storeError = error
    }
    slot.generation++
    slot.inflight = undefined
    let obtained: Obtained
    try {
      obtained = await this.#load(slot, generation, storeError)
    } catch (error) {
      throw this.#unavailable(slot, error)
    }
    await this.#l2.broadcast('invalidate', [name]).catch((error: unknown) => {
      storeError ??= error
    })
    if (storeError !== undefined) throw this.#storeUnavailable('refresh', storeError, APPLIED_LOCALLY)
    return this.#deliver(name, obtained)
  }

  /**
   * Starts listening to the other instances (used by the plugin at registration): their
   * invalidations drop copies here, their 'loaded' messages wake the loads waiting here.
   */
  listen(): Subscription {
    return this.#l2.subscribe({
      onInvalidate: (names) => {
        const known = names.filter((name) => this.#slots.has(name))
        for (const name of known) this.#drop(name)
        this.#emit?.({ type: 'invalidation', names: known, origin: 'remote' })
      },
      onLoaded: (names) => {
        for (const name of names) this.#loads.wake(name)
      },
      onSubscribed: () => this.#resync()
    })
  }

  /** (Re)subscribed: invalidations may have been missed while the subscription was down, so L1 cannot be trusted. */
  #resync(): void {
    if (this.#l1.size === 0) return
    const names = [...this.#slots.keys()]
    for (const name of names) this.#drop(name)
    this.#emit?.({ type: 'invalidation', names, origin: 'resync' })
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name)
    if (slot === undefined) throw new CatalogNotDefinedError(name)
    return slot
  }

  #namesTagged(tag: string): string[] {
    return [...this.#slots.values()]
      .filter((slot) => slot.definition.tags.has(tag))
      .map((slot) => slot.definition.name)
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

  /** Past L1: a fresh (or revalidating) L2 copy, else a load; if that fails, the newest copy still inside stale-if-error. */
  async #resolve(slot: Slot): Promise<Obtained> {
    const start = slot.generation
    const inL1 = this.#l1.get(slot.definition.name)
    const stored = await this.#l2.read(slot.definition.name).catch((error: StoreError) => error)
    const inL2 = stored instanceof StoreError ? undefined : stored
    if (inL2 !== undefined) {
      switch (freshness(inL2, Date.now())) {
        case 'fresh':
          this.#fill(slot, inL2, start)
          return { entry: inL2, state: 'hit', tier: 'l2' }
        case 'stale':
          this.#fill(slot, inL2, start)
          this.#revalidate(slot)
          return { entry: inL2, state: 'stale', tier: 'l2', staleReason: 'revalidating' }
      }
    }
    try {
      // Failed a moment ago: fail fast (to the copies below) until the backoff ends
      if (Date.now() < slot.retryAt) throw slot.lastError
      return await this.#load(slot, 0, stored instanceof StoreError ? stored : undefined)
    } catch (error) {
      const copy = lastResort(Date.now(), inL1, inL2)
      if (copy === undefined) throw this.#unavailable(slot, error)
      this.#fill(slot, copy, slot.generation)
      return { entry: copy, state: 'stale', tier: copy === inL1 ? 'l1' : 'l2', staleReason: 'error' }
    }
  }

  /** Background stale-while-revalidate: at most one per instance, none while backing off after a failure. */
  #revalidate(slot: Slot): void {
    if (slot.refreshing || Date.now() < slot.retryAt) return
    slot.refreshing = true
    this.#renew(slot)
      .catch(() => {
        /* reported as load-error or store-error; the stale copy keeps being served */
      })
      .finally(() => {
        slot.refreshing = false
      })
  }

  /** A fresh L2 copy when another instance revalidated first, else a load. */
  async #renew(slot: Slot): Promise<void> {
    const start = slot.generation
    const stored = await this.#l2.read(slot.definition.name).catch((error: StoreError) => error)
    if (stored instanceof StoreError || stored === undefined || freshness(stored, Date.now()) !== 'fresh') {
      if (Date.now() >= slot.retryAt)
        await this.#load(slot, 0, stored instanceof StoreError ? stored : undefined)
      return
    }
    this.#fill(slot, stored, start)
  }

  /**
   * A new copy from the loader, loaded once across instances through the store (at least of
   * `minGeneration`). When the store is unusable (`storeError`, or it fails now): failMode
   * 'open' loads on this instance alone and keeps the copy in L1 only; 'closed' counts it as a
   * failed load. A lock holder that outlived its lease is given up on either way.
   */
  async #load(slot: Slot, minGeneration: number, storeError?: unknown): Promise<Obtained> {
    const start = slot.generation
    let copy: SharedCopy | undefined
    if (storeError === undefined) {
      try {
        copy = await this.#loads.load(slot.definition.name, minGeneration, (generation) =>
          this.#loadEntry(slot, generation)
        )
      } catch (error) {
        if (!(error instanceof StoreError)) throw error
        storeError = error
      }
    }
    if (storeError !== undefined && this.#options.failMode === 'closed') throw this.#failed(slot, storeError)
    copy ??= { entry: await this.#loadEntry(slot, 0), tier: 'loader', stored: undefined }
    // stored false: an invalidation came in while loading, so this copy may already be outdated
    if (copy.tier === 'l2' || copy.stored !== false) this.#fill(slot, copy.entry, start)
    return { entry: copy.entry, state: 'miss', tier: copy.tier }
  }

  async #loadEntry(slot: Slot, generation: number): Promise<CatalogEntry> {
    const { name } = slot.definition
    const started = performance.now()
    try {
      const entry = await loadEntry(slot.definition, generation, this.#options.jitter, this.#timeouts)
      slot.failures = 0
      slot.retryAt = 0
      this.#emit?.({ type: 'load', name, durationMs: performance.now() - started, version: entry.version })
      return entry
    } catch (error) {
      this.#failed(slot, error)
      this.#emit?.({ type: 'load-error', name, durationMs: performance.now() - started, error })
      this.#log.warn({ err: error }, `${PLUGIN}: loading '${name}' failed`)
      throw error
    }
  }

  /** A load failed (or, failMode 'closed', could not run): backs off, doubling per failure in a row. Returns `error`. */
  #failed(slot: Slot, error: unknown): unknown {
    slot.failures++
    slot.lastError = error
    slot.retryAt =
      Date.now() +
      Math.min(this.#options.retryBackoffMs * 2 ** (slot.failures - 1), this.#options.retryBackoffMaxMs)
    return error
  }

  #fill(slot: Slot, entry: CatalogEntry, startGeneration: number): void {
    if (slot.generation === startGeneration) this.#l1.set(slot.definition.name, entry)
  }

  /** The loader's or store's error was reported when it happened; here it is only the cause. */
  #unavailable(slot: Slot, cause: unknown): Error {
    return withRetryAfter(
      new DependencyUnavailableError(catalogUnavailable(slot.definition.name), { cause }),
      slot.retryAt - Date.now()
    )
  }

  /** Redis usually comes back within seconds: retrying the invalidation/refresh after 1 s is reasonable. */
  #storeUnavailable(operation: 'invalidate' | 'refresh', cause: unknown, consequence: string): Error {
    this.#log.warn({ err: cause }, `${PLUGIN}: ${operation} could not update the store; ${consequence}`)
    return withRetryAfter(new DependencyUnavailableError(storeUnavailable(consequence), { cause }), 1000)
  }

  #hit<T>(slot: Slot, entry: CatalogEntry, now: number): CatalogResult<T> {
    const memo = slot.lastHit
    if (memo !== undefined && memo.entry === entry && now < memo.validUntil) {
      this.#emit?.({ type: 'hit', name: slot.definition.name, tier: 'l1' })
      return memo.result as CatalogResult<T>
    }
    const result = Object.freeze(
      this.#deliver<T>(slot.definition.name, { entry, state: 'hit', tier: 'l1' }, now)
    )
    slot.lastHit = {
      entry,
      validUntil: Math.min(entry.freshUntil - result.ttl * 1000, entry.createdAt + (result.age + 1) * 1000),
      result
    }
    return result
  }

  #deliver<T>(name: string, obtained: Obtained, now = Date.now()): CatalogResult<T> {
    if (this.#emit !== undefined) {
      const { state, tier, staleReason } = obtained
      if (state === 'hit') this.#emit({ type: 'hit', name, tier: tier as 'l1' | 'l2' })
      else if (state === 'miss') this.#emit({ type: 'miss', name, tier: tier as 'l2' | 'loader' })
      else this.#emit({ type: 'stale', name, reason: staleReason as StaleReason })
    }
    return buildResult<T>(name, obtained, now, this.#options.cacheStatusName)
  }
}
