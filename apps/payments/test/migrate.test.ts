import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freshDatabase } from '@moolah/test-utils'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from './helpers/app.js'

t.test('three instances starting at once against an empty database migrate it once, cleanly', async (t) => {
  const url = await freshDatabase(t)
  const apps = await Promise.all(
    [1, 2, 3].map(() => buildApp(testConfig({ DATABASE_URL: url }), { logger: false }))
  )
  t.teardown(() => Promise.all(apps.map((app) => app.close())))

  const sql = postgres(url, { max: 1 })
  t.teardown(() => sql.end())
  const migrations = await sql`SELECT hash FROM drizzle.__drizzle_migrations`
  const journal = (await import('../drizzle/meta/_journal.json', { with: { type: 'json' } })).default
  t.equal(migrations.length, journal.entries.length, 'each migration recorded exactly once')
  const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
  t.same(
    tables.map((row) => row.tablename),
    ['catalog_versions', 'deposits', 'journal_entries', 'purchases', 'transfers', 'users', 'wallets']
  )

  const again = await buildApp(testConfig({ DATABASE_URL: url }), { logger: false })
  await again.close()
  t.equal(
    (await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0]?.n,
    journal.entries.length,
    'a restart applies nothing twice'
  )
})

t.test('a database with money on it before purchases existed upgrades in place', async (t) => {
  const url = await freshDatabase(t)
  // The migrations folder as it was before purchases: the first two entries of the journal.
  const folder = await mkdtemp(join(tmpdir(), 'moolah-migrations-'))
  t.teardown(() => rm(folder, { recursive: true, force: true }))
  const journal = JSON.parse(
    await readFile(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')
  ) as { entries: Array<{ tag: string }> }
  const before = journal.entries.slice(0, 2)
  await mkdir(join(folder, 'meta'))
  await writeFile(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: before }))
  for (const { tag } of before)
    await copyFile(new URL(`../drizzle/${tag}.sql`, import.meta.url), join(folder, `${tag}.sql`))

  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end())
  await migrate(drizzle(sql), { migrationsFolder: folder })
  const [user] =
    await sql`INSERT INTO users (name, api_key_hash) VALUES ('Old', repeat('a', 64)) RETURNING id`
  const [wallet] =
    await sql`INSERT INTO wallets (owner_id, currency) VALUES (${user?.id}, 'ZAR') RETURNING id`
  t.match(await sql`SELECT outcome FROM post_deposit('admin', ${wallet?.id}, 500, NULL, 'k', 'fp')`, [
    { outcome: 'CREATED' }
  ])

  const app = await buildApp(testConfig({ DATABASE_URL: url }), { logger: false })
  t.teardown(() => app.close())
  t.equal(
    (await sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)[0]?.n,
    journal.entries.length,
    'the later migrations applied after the earlier ones'
  )
  t.match(
    await sql`SELECT kind, balance::int AS balance FROM wallets ORDER BY kind`,
    [
      { kind: 'system', balance: -500 },
      { kind: 'user', balance: 500 }
    ],
    'the money is still there'
  )
  t.match(
    await sql`SELECT outcome FROM post_deposit('admin', ${wallet?.id}, 500, NULL, 'k2', 'fp')`,
    [{ outcome: 'CREATED' }],
    'deposits still post (move_money by its old signature)'
  )
  t.same(await sql`SELECT count(*)::int AS n FROM purchases`, [{ n: 0 }])
})
