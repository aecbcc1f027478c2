import { OptionReader } from '@moolah/plugin-kit'
import { PLUGIN } from '../options.js'
import type { Claim, ClaimResult, IdempotencyStore } from './store.js'

export interface MemoryIdempotencyStoreOptions {
  /**
   * Upper bound on records; the least recently used one is evicted beyond it.
   * @default 10000
   */
  maxEntries?: number
}

type Entry =
  | { state: 'in-flight'; token: string; fingerprint: string; expiresAt: number }
  | { state: 'completed'; token: string; fingerprint: string; response: Buffer; expiresAt: number }

/**
 * A single-process store with the same semantics as the Redis store: leases and
 * retention expire, and the map is bounded (least recently used first out).
 * Only correct for one process; use the Redis store for several instances.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = new OptionReader(PLUGIN, options, 'MemoryIdempotencyStore options').integer(
      'maxEntries',
      10_000
    )
  }

  get size(): number {
    return this.#entries.size
  }

  async claim(key: string, claim: Claim): Promise<ClaimResult> {
    const entry = this.#live(key)
    if (entry === undefined) {
      this.#set(key, {
        state: 'in-flight',
        token: claim.token,
        fingerprint: claim.fingerprint,
        expiresAt: Date.now() + claim.leaseMs
      })
      return { state: 'claimed' }
    }
    this.#set(key, entry) // a hit counts as use for the LRU order
    if (entry.state === 'completed')
      return { state: 'completed', fingerprint: entry.fingerprint, response: entry.response }
    return { state: 'in-flight', fingerprint: entry.fingerprint }
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const entry = this.#owned(key, token)
    if (entry === undefined) return false
    entry.expiresAt = Date.now() + leaseMs
    return true
  }

  async commit(key: string, token: string, response: Buffer | string, ttlMs: number): Promise<boolean> {
    const entry = this.#owned(key, token)
    if (entry === undefined) return false
    const bytes = typeof response === 'string' ? Buffer.from(response) : response
    this.#set(key, {
      state: 'completed',
      token,
      fingerprint: entry.fingerprint,
      response: bytes,
      expiresAt: Date.now() + ttlMs
    })
    return true
  }

  async release(key: string, token: string): Promise<boolean> {
    if (this.#owned(key, token) === undefined) return false
    this.#entries.delete(key)
    return true
  }

  async close(): Promise<void> {
    this.#entries.clear()
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }

  #owned(key: string, token: string): Entry | undefined {
    const entry = this.#live(key)
    return entry?.state === 'in-flight' && entry.token === token ? entry : undefined
  }

  #set(key: string, entry: Entry): void {
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }
}
