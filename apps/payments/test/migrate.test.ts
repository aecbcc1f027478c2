import { freshDatabase } from '@moolah/test-utils'
import postgres from 'postgres'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from './helpers/app.js'

t.test('three instances starting at once against an empty database migrate it once, cleanly', async (t) => {
  const url = await freshDatabase(t)
  const apps = await Promise.all([1, 2, 3].map(() => buildApp(testConfig({ DATABASE_URL: url }), { logger: false })))
  t.teardown(() => Promise.all(apps.map((app) => app.close())))

  const sql = postgres(url, { max: 1 })
  t.teardown(() => sql.end())
  const migrations = await sql`SELECT hash FROM drizzle.__drizzle_migrations`
  const journal = (await import('../drizzle/meta/_journal.json', { with: { type: 'json' } })).default
  t.equal(migrations.length, journal.entries.length, 'each migration recorded exactly once')
  const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
  t.same(tables.map((row) => row.tablename), ['catalog_versions', 'deposits', 'journal_entries', 'purchases', 'transfers', 'users', 'wallets'])

  const again = await buildApp(testConfig({ DATABASE_URL: url }), { logger: false })
  await again.close()
  t.equal((await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0]?.n, journal.entries.length, 'a restart applies nothing twice')
})
