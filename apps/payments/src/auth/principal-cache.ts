/** Who a request acts for. */
export type Principal = { kind: 'admin'; id: 'admin' } | { kind: 'user'; id: string }

interface Entry {
  /** Null: no user has this key. */
  principal: Principal | null
  expiresAt: number
}

export interface PrincipalCacheOptions {
  /** Looks a key hash up in the database. */
  lookup: (apiKeyHash: string) => Promise<Principal | null>
  /** How long an answer, found or not found, is reused. */
  ttlMs: number
  /** Bound on remembered hashes; the oldest goes first. */
  maxEntries: number
}

/**
 * API-key hash → principal, remembered in process for `ttlMs`, so an authenticated request
 * costs no query. Unknown keys are remembered too (a key is random and exists only once it was
 * issued, so a wrong key stays wrong), and concurrent first lookups of one key share one query.
 */
export class PrincipalCache {
  readonly #entries = new Map<string, Entry>()
  readonly #inFlight = new Map<string, Promise<Principal | null>>()

  constructor(private readonly options: PrincipalCacheOptions) {}

  /** The remembered answer (null: known to be no one's key), or undefined when a lookup is needed. */
  cached(apiKeyHash: string): Principal | null | undefined {
    const entry = this.#entries.get(apiKeyHash)
    if (entry === undefined) return undefined
    if (entry.expiresAt > Date.now()) return entry.principal
    this.#entries.delete(apiKeyHash)
    return undefined
  }

  resolve(apiKeyHash: string): Promise<Principal | null> {
    let pending = this.#inFlight.get(apiKeyHash)
    if (pending === undefined) {
      pending = this.options
        .lookup(apiKeyHash)
        .then((principal) => {
          this.#remember(apiKeyHash, principal)
          return principal
        })
        .finally(() => this.#inFlight.delete(apiKeyHash))
      this.#inFlight.set(apiKeyHash, pending)
    }
    return pending
  }

  #remember(apiKeyHash: string, principal: Principal | null): void {
    if (this.#entries.size >= this.options.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(apiKeyHash, { principal, expiresAt: Date.now() + this.options.ttlMs })
  }
}
