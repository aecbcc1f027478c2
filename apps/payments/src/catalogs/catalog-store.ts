import { desc, eq, sql } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { catalogVersions } from '../db/schema.js'
import { PROVIDERS, readFeed, type CatalogFeed, type Product, type Provider } from './feed.js'

/** A catalog as the API serves it. */
export interface Catalog {
  provider: Provider
  version: string
  /** RFC 3339: when this version was stored. */
  updatedAt: string
  products: Product[]
}

export interface SavedCatalogVersion {
  provider: Provider
  version: string
  count: number
  /** RFC 3339: when this version was stored. */
  updatedAt: string
}

/** The jsonb payload of a catalog_versions row; only saveCatalogVersion writes it. */
interface CatalogPayload {
  version: string
  products: Product[]
}

/** Any constant shared by every instance, distinct from the migration lock's. */
const SEED_LOCK_ID = 7_466_233_002

/** Stores a validated feed as the provider's newest, hence current, version. */
export async function saveCatalogVersion(db: Db, feed: CatalogFeed): Promise<SavedCatalogVersion> {
  const payload: CatalogPayload = { version: feed.version, products: feed.products }
  const [row] = await db
    .insert(catalogVersions)
    .values({ provider: feed.provider, version: feed.version, productCount: feed.products.length, payload })
    .returning({ createdAt: catalogVersions.createdAt })
  /* c8 ignore next -- INSERT … RETURNING of one row always answers with that row */
  if (row === undefined) throw new Error('INSERT INTO catalog_versions returned no row')
  return {
    provider: feed.provider,
    version: feed.version,
    count: feed.products.length,
    updatedAt: row.createdAt.toISOString()
  }
}

/** The provider's newest stored version, or undefined when none was ever stored. */
export async function loadCurrentCatalog(db: Db, provider: Provider): Promise<Catalog | undefined> {
  const [row] = await db
    .select({
      version: catalogVersions.version,
      payload: catalogVersions.payload,
      createdAt: catalogVersions.createdAt
    })
    .from(catalogVersions)
    .where(eq(catalogVersions.provider, provider))
    .orderBy(desc(catalogVersions.seq))
    .limit(1)
  if (row === undefined) return undefined
  const { products } = row.payload as CatalogPayload
  return { provider, version: row.version, updatedAt: row.createdAt.toISOString(), products }
}

/**
 * Stores the feed of every provider that has no version yet, so a fresh database serves
 * catalogs from the first request; providers that have one are left alone (refresh
 * replaces them). Instances starting together queue on a transaction-scoped advisory
 * lock, and each checks again once it holds it: the first seeds, the rest find nothing
 * to do. A missing or invalid feed throws CatalogFeedError and stores nothing.
 */
export async function seedMissingCatalogs(db: Db, sourceDir?: string): Promise<SavedCatalogVersion[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${SEED_LOCK_ID})`)
    const seeded: SavedCatalogVersion[] = []
    for (const provider of PROVIDERS) {
      if (await hasCatalog(tx, provider)) continue
      seeded.push(await saveCatalogVersion(tx, await readFeed(provider, sourceDir)))
    }
    return seeded
  })
}

async function hasCatalog(db: Db, provider: Provider): Promise<boolean> {
  const rows = await db
    .select({ seq: catalogVersions.seq })
    .from(catalogVersions)
    .where(eq(catalogVersions.provider, provider))
    .limit(1)
  return rows.length > 0
}
