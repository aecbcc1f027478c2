import postgres from 'postgres'
import t from 'tap'
import { freshDatabase } from '../src/index.js'

t.test('creates an empty database and drops it at teardown', async (t) => {
  const admin = postgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
    max: 1
  })
  t.teardown(() => admin.end())

  let name = ''
  await t.test('a test that uses it', async (t) => {
    const url = await freshDatabase(t)
    name = new URL(url).pathname.slice(1)
    t.match(name, /^test_fresh_database_test_\d+_[0-9a-f]{8}$/)
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    await sql`CREATE TABLE t (id int)`
    await sql`INSERT INTO t VALUES (1)`
    t.same(await sql`SELECT current_database() AS db, count(*)::int AS n FROM t`, [{ db: name, n: 1 }])
    // left open on purpose: teardown must drop the database even with a connection still in it
  })

  const rows = await admin`SELECT 1 FROM pg_database WHERE datname = ${name}`
  t.equal(rows.length, 0, 'the database is gone')
})
