import type { CatalogEntry } from './entry.js'

/** The in-process tier: a Map kept in least-recently-used order, bounded by `maxEntries`. */
export class BoundedL1 {
  readonly #entries = new Map<string, CatalogEntry>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  get size(): number {
    return this.#entries.size
  }

  get(name: string): CatalogEntry | undefined {
    return this.#entries.get(name)
  }

  set(name: string, entry: CatalogEntry): void {
    this.#entries.delete(name)
    this.#entries.set(name, entry)
    if (this.#entries.size > this.#maxEntries) {
      // Map iteration order is insertion order, so the first key is the least recently stored
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }

  delete(name: string): void {
    this.#entries.delete(name)
  }
}
