import { randomUUID } from 'node:crypto'
import type { CatalogEntry } from './entry.js'
import { freshness } from './freshness.js'
import type { L2 } from './l2.js'

/** A copy a shared load produced: loaded here (`stored`: false when an invalidation overtook it, undefined when the write failed) or by another instance. */
export type SharedCopy =
  { entry: CatalogEntry; tier: 'loader'; stored: boolean | undefined } | { entry: CatalogEntry; tier: 'l2' }

const WAIT_FIRST_MS = 10
/** L2 reports its own failures (onEvent); what a lost broadcast or unlock costs is said where it is called. */
const alreadyReported = (): void => {}
const WAIT_MAX_MS = 100

/**
 * One load across instances: whoever takes the store's lock loads, writes and announces the
 * copy ('loaded'); the others wait — woken by that message, else polling at growing intervals —
 * until a fresh copy of at least `minGeneration` is in the store. A lock that outlives its
 * lease is taken for abandoned: `load` then resolves undefined and the caller loads on its own.
 * Store failures reject with the StoreError.
 */
export class SharedLoads {
  readonly #l2: L2
  readonly #leaseMs: number
  /** Per name, the wake-ups of the instance's waiters. */
  readonly #waiters = new Map<string, Set<() => void>>()

  constructor(l2: L2, leaseMs: number) {
    this.#l2 = l2
    this.#leaseMs = leaseMs
  }

  async load(
    name: string,
    minGeneration: number,
    loadEntry: (generation: number) => Promise<CatalogEntry>
  ): Promise<SharedCopy | undefined> {
    const token = randomUUID()
    const deadline = Date.now() + this.#leaseMs
    for (let waitMs = WAIT_FIRST_MS; ; waitMs = Math.min(waitMs * 2, WAIT_MAX_MS)) {
      const generation = await this.#l2.lock(name, token, this.#leaseMs)
      if (generation !== undefined) return this.#loadAndWrite(name, token, generation, loadEntry)
      if (Date.now() >= deadline) break
      await this.#wait(name, waitMs)
      const stored = await this.#l2.read(name)
      if (
        stored !== undefined &&
        freshness(stored, Date.now()) === 'fresh' &&
        stored.generation >= minGeneration
      )
        return { entry: stored, tier: 'l2' }
    }
    return undefined
  }

  /** A 'loaded' message: the waiters for `name` look at the store now. */
  wake(name: string): void {
    for (const wake of this.#waiters.get(name) ?? []) wake()
  }

  async #loadAndWrite(
    name: string,
    token: string,
    generation: number,
    loadEntry: (generation: number) => Promise<CatalogEntry>
  ): Promise<SharedCopy> {
    try {
      const entry = await loadEntry(generation)
      // The store went away mid-load (undefined): the caller keeps the value in L1 at least
      const stored = await this.#l2.write(name, entry).catch(() => undefined)
      if (stored === true)
        // Waiters poll as well, so a lost broadcast only delays them
        this.#l2.broadcast('loaded', [name]).catch(alreadyReported)
      return { entry, tier: 'loader', stored }
    } finally {
      // The lease expires anyway
      this.#l2.unlock(name, token).catch(alreadyReported)
    }
  }

  /** Until `ms` have passed or a 'loaded' message for `name` came, whichever is first. */
  #wait(name: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(name)
      if (waiters === undefined) this.#waiters.set(name, (waiters = new Set()))
      const done = (): void => {
        clearTimeout(timer)
        waiters.delete(done)
        if (waiters.size === 0) this.#waiters.delete(name)
        resolve()
      }
      const timer = setTimeout(done, ms).unref()
      waiters.add(done)
    })
  }
}
