import { randomUUID } from 'node:crypto'
import type { Subscription, Timeouts } from '@moolah/plugin-kit'
import { decodeEntry, encodeEntry, retentionMs, type CatalogEntry } from './entry.js'
import type { StoreOperation } from './events.js'
import { PLUGIN } from './options.js'
import type { CatalogCacheStore } from './stores/store.js'

/** A store call that failed or timed out: the cache carries on with L1 and the loader (or refuses, failMode 'closed'). */
export class StoreError extends Error {
  constructor(operation: StoreOperation, cause: unknown) {
    super(`${PLUGIN}: store ${operation} failed`, { cause })
  }
}

/** What other instances (and this one) say on the channel. */
export interface L2Listener {
  /** Another instance dropped these catalogs. */
  onInvalidate(names: string[]): void
  /** An instance stored a new copy of these catalogs. */
  onLoaded(names: string[]): void
  /** (Re)subscribed: messages may have been missed meanwhile. */
  onSubscribed(): void
}

interface Message {
  /** Sending instance. */
  o: string
  t: 'invalidate' | 'loaded'
  n: string[]
}

/**
 * The shared tier as the cache sees it: every store call bounded by the plugin's timeout, each
 * failure reported (a `store-error` event) and thrown as a StoreError; entries encoded and
 * decoded; the channel's messages written and checked.
 */
export class L2 {
  readonly #store: CatalogCacheStore
  readonly #timeouts: Timeouts
  readonly #report: (operation: StoreOperation, error: unknown) => void
  readonly #instanceId = randomUUID()

  constructor(
    store: CatalogCacheStore,
    timeouts: Timeouts,
    report: (operation: StoreOperation, error: unknown) => void
  ) {
    this.#store = store
    this.#timeouts = timeouts
    this.#report = report
  }

  /** The stored copy; an unreadable one counts as a failed read. */
  async read(name: string): Promise<CatalogEntry | undefined> {
    const payload = await this.#call('read', () => this.#store.read(name))
    if (payload === undefined) return undefined
    try {
      return decodeEntry(payload)
    } catch (error) {
      this.#report('read', error)
      throw new StoreError('read', error)
    }
  }

  lock(name: string, token: string, leaseMs: number): Promise<number | undefined> {
    return this.#call('lock', () => this.#store.lock(name, token, leaseMs))
  }

  unlock(name: string, token: string): Promise<void> {
    return this.#call('unlock', () => this.#store.unlock(name, token))
  }

  /** Stores `entry` until its last window closes, unless an invalidation came first (false). */
  write(name: string, entry: CatalogEntry): Promise<boolean> {
    return this.#call('write', () =>
      this.#store.write(name, entry.generation, encodeEntry(entry), retentionMs(entry, Date.now()))
    )
  }

  invalidate(name: string, keepEntry: boolean): Promise<number> {
    return this.#call('invalidate', () => this.#store.invalidate(name, keepEntry))
  }

  broadcast(type: Message['t'], names: string[]): Promise<void> {
    const message: Message = { o: this.#instanceId, t: type, n: names }
    return this.#call('publish', () => this.#store.publish(JSON.stringify(message)))
  }

  /** This instance's own invalidations are not passed on: it applied them already. */
  subscribe(listener: L2Listener): Subscription {
    return this.#store.subscribe({
      onMessage: (raw) => {
        const message = parseMessage(raw)
        if (message === undefined)
          this.#report('subscribe', new Error(`${PLUGIN}: ignored a malformed message: ${raw.slice(0, 200)}`))
        else if (message.t === 'loaded') listener.onLoaded(message.n)
        else if (message.o !== this.#instanceId) listener.onInvalidate(message.n)
      },
      onSubscribed: () => listener.onSubscribed(),
      onError: (error) => this.#report('subscribe', error)
    })
  }

  async #call<T>(operation: StoreOperation, call: () => Promise<T>): Promise<T> {
    try {
      return await this.#timeouts.run(call(), operation)
    } catch (error) {
      this.#report(operation, error)
      throw new StoreError(operation, error)
    }
  }
}

/** Messages come from other processes (or anyone who can PUBLISH): checked before use. */
function parseMessage(raw: string): Message | undefined {
  try {
    const message = JSON.parse(raw) as Partial<Message> | null
    const valid =
      typeof message?.o === 'string' &&
      (message.t === 'invalidate' || message.t === 'loaded') &&
      Array.isArray(message.n) &&
      message.n.every((name) => typeof name === 'string')
    return valid ? (message as Message) : undefined
  } catch {
    return undefined
  }
}
