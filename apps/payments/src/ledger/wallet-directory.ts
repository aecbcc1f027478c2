import type { Database } from '../db/database.js'
import { statement } from '../db/statement.js'
import { isId } from './ids.js'

/** What never changes about a wallet once it exists. */
export interface WalletFacts {
  /** Null for a system account. */
  ownerId: string | null
  currency: string
}

const WALLET_FACTS = statement<{ owner_id: string | null; currency: string }>(
  'SELECT owner_id, currency FROM wallets WHERE id = $1'
)

/**
 * A wallet's owner and currency, cached in process: they never change, so the ownership check
 * a request needs before it may take a wallet's lock costs a query only the first time. Unknown
 * ids are not cached (the wallet may be created later); the cache is bounded, oldest out first.
 */
export class WalletDirectory {
  readonly #known = new Map<string, WalletFacts>()

  constructor(
    private readonly database: Database,
    private readonly maxEntries = 100_000
  ) {}

  /** The facts of wallet `id` (a lower-case UUID), or undefined when there is no such wallet. */
  async facts(id: string): Promise<WalletFacts | undefined> {
    const known = this.#known.get(id)
    if (known !== undefined || !isId(id)) return known
    const [row] = await this.database.run(WALLET_FACTS, [id])
    if (row === undefined) return undefined
    const facts = { ownerId: row.owner_id, currency: row.currency }
    if (this.#known.size >= this.maxEntries) this.#known.delete(this.#known.keys().next().value as string)
    this.#known.set(id, facts)
    return facts
  }
}
