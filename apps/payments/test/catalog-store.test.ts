import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freshDatabase, type Teardown } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { loadCurrentCatalog, saveCatalogVersion, seedMissingCatalogs } from '../src/catalogs/catalog-store.js'
import { CatalogFeedError, readFeed, type CatalogFeed, type Product } from '../src/catalogs/feed.js'
import { openDatabase, type Database, type Db } from '../src/db/database.js'
import { catalogVersions } from '../src/db/schema.js'
import { tempDataDir } from './helpers/app.js'

const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

const airtime: Product = {
  id: 'flash-mtn-airtime-30',
  name: 'MTN airtime R30',
  category: 'airtime',
  network: 'MTN',
  currency: 'ZAR',
  amount: 3000
}
const oneVoucher: Product = {
  id: 'flash-1voucher-any',
  name: '1Voucher, any amount',
  category: '1voucher',
  currency: 'ZAR',
  minAmount: 1000,
  maxAmount: 300_000
}
const george: Product = {
  id: 'easypay-electricity-george',
  name: 'George',
  category: 'electricity',
  province: 'Western Cape',
  currency: 'ZAR',
  minAmount: 1000,
  maxAmount: 200_000
}

async function migratedDatabase(t: Teardown, url: string | undefined): Promise<Database> {
  const database = await openDatabase({ url, dataDir: await tempDataDir(t) })
  t.teardown(() => database.close())
  await database.migrate()
  return database
}

async function rowsPerProvider(db: Db): Promise<Array<{ provider: string; rows: number }>> {
  return db
    .select({ provider: catalogVersions.provider, rows: sql<number>`count(*)::int` })
    .from(catalogVersions)
    .groupBy(catalogVersions.provider)
    .orderBy(catalogVersions.provider)
}

const backends = [
  { name: 'Postgres', open: async (t: Teardown) => migratedDatabase(t, await freshDatabase(t)) },
  { name: 'PGlite', open: async (t: Teardown) => migratedDatabase(t, undefined) }
]

for (const backend of backends) {
  t.test(backend.name, async (t) => {
    // One database per backend (PGlite takes seconds to start), emptied before each test.
    const { db } = await backend.open(t)
    t.beforeEach(async () => {
      await db.delete(catalogVersions)
    })

    t.test('no catalog before the first version is stored', async (t) => {
      t.equal(await loadCurrentCatalog(db, 'flash'), undefined)
      t.equal(await loadCurrentCatalog(db, 'easypay'), undefined)
    })

    t.test('the newest stored version is current, per provider', async (t) => {
      const first = await saveCatalogVersion(db, {
        provider: 'flash',
        version: 'v1',
        products: [airtime, oneVoucher]
      })
      t.match(first, { provider: 'flash', version: 'v1', count: 2, updatedAt: RFC_3339 })
      t.same(await loadCurrentCatalog(db, 'flash'), {
        provider: 'flash',
        version: 'v1',
        updatedAt: first.updatedAt,
        products: [airtime, oneVoucher]
      })

      const second = await saveCatalogVersion(db, {
        provider: 'flash',
        version: 'v2',
        products: [oneVoucher]
      })
      t.same(await loadCurrentCatalog(db, 'flash'), {
        provider: 'flash',
        version: 'v2',
        updatedAt: second.updatedAt,
        products: [oneVoucher]
      })
      t.ok(Date.parse(second.updatedAt) >= Date.parse(first.updatedAt))
      t.equal(await loadCurrentCatalog(db, 'easypay'), undefined, 'other providers are untouched')
      t.same(await rowsPerProvider(db), [{ provider: 'flash', rows: 2 }], 'older versions are kept')
    })

    t.test('the payload is a jsonb object holding the version and products', async (t) => {
      await saveCatalogVersion(db, { provider: 'easypay', version: '2026-11-18.1', products: [george] })
      const [row] = await db
        .select({
          type: sql<string>`jsonb_typeof(${catalogVersions.payload})`,
          version: sql<string>`${catalogVersions.payload}->>'version'`,
          productCount: catalogVersions.productCount
        })
        .from(catalogVersions)
      t.same(row, { type: 'object', version: '2026-11-18.1', productCount: 1 })
    })

    t.test('seeding stores the bundled feeds into a fresh database, once', async (t) => {
      const [flash, easypay] = await Promise.all([readFeed('flash'), readFeed('easypay')])
      const seeded = await seedMissingCatalogs(db)
      t.match(seeded, [
        { provider: 'flash', version: flash.version, count: flash.products.length, updatedAt: RFC_3339 },
        { provider: 'easypay', version: easypay.version, count: easypay.products.length, updatedAt: RFC_3339 }
      ])
      t.same(await loadCurrentCatalog(db, 'flash'), { ...flash, updatedAt: seeded[0]?.updatedAt })
      t.same(await loadCurrentCatalog(db, 'easypay'), { ...easypay, updatedAt: seeded[1]?.updatedAt })
      t.same(await seedMissingCatalogs(db), [], 'a restart seeds nothing')
      t.same(await rowsPerProvider(db), [
        { provider: 'easypay', rows: 1 },
        { provider: 'flash', rows: 1 }
      ])
    })

    t.test('seeding leaves stored providers alone and reads only the missing feeds', async (t) => {
      const stored: CatalogFeed = { provider: 'flash', version: 'refreshed', products: [airtime] }
      await saveCatalogVersion(db, stored)
      const dir = await tempDataDir(t) // holds no flash.json: reading it would fail
      await writeFile(
        join(dir, 'easypay.json'),
        JSON.stringify({ provider: 'easypay', version: 'custom', products: [george] })
      )
      t.match(await seedMissingCatalogs(db, dir), [{ provider: 'easypay', version: 'custom', count: 1 }])
      t.match(await loadCurrentCatalog(db, 'flash'), { version: 'refreshed', products: [airtime] })
      t.match(await loadCurrentCatalog(db, 'easypay'), { version: 'custom', products: [george] })
    })

    t.test('a bad feed seeds nothing at all', async (t) => {
      const dir = await tempDataDir(t)
      await writeFile(
        join(dir, 'flash.json'),
        JSON.stringify({ provider: 'flash', version: 'ok', products: [airtime] })
      )
      await writeFile(
        join(dir, 'easypay.json'),
        JSON.stringify({ provider: 'easypay', version: 'broken', products: [{ ...george, province: '' }] })
      )
      await t.rejects(seedMissingCatalogs(db, dir), CatalogFeedError)
      t.same(await rowsPerProvider(db), [], 'the flash version stored before the failure was rolled back')
    })
  })
}

t.test('three instances seeding one fresh Postgres at once store each provider exactly once', async (t) => {
  const url = await freshDatabase(t)
  const databases = await Promise.all([1, 2, 3].map(() => migratedDatabase(t, url)))
  const seeded = (await Promise.all(databases.map(({ db }) => seedMissingCatalogs(db)))).flat()
  t.same(seeded.map((s) => s.provider).sort(), ['easypay', 'flash'], 'one instance seeded each provider')
  const { db } = databases[0] as Database
  t.same(await rowsPerProvider(db), [
    { provider: 'easypay', rows: 1 },
    { provider: 'flash', rows: 1 }
  ])
})
