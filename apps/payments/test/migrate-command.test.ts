import { freshDatabase } from '@moolah/test-utils'
import postgres from 'postgres'
import t from 'tap'
import { tempDataDir } from './helpers/app.js'
import { runScript } from './helpers/child.js'

// `pnpm db:migrate` (src/migrate-command.ts) as an operator runs it: a process of its own.

// Outputs are compared whole: one line, no stack trace.

t.test('DATABASE_URL is all it needs', async (t) => {
  const url = await freshDatabase(t)
  const migrate = runScript(t, 'migrate-command', { DATABASE_URL: url })
  t.equal(await migrate.exited, 0)
  t.equal(migrate.output(), 'migrations applied (Postgres)\n')

  const sql = postgres(url, { max: 1 })
  t.teardown(() => sql.end())
  const tables = await sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
  t.ok(
    tables.some((row) => row.tablename === 'journal_entries'),
    'the schema is there'
  )
})

t.test('without DATABASE_URL: the embedded database in DATA_DIR', async (t) => {
  const dataDir = await tempDataDir(t)
  const migrate = runScript(t, 'migrate-command', { DATA_DIR: dataDir })
  t.equal(await migrate.exited, 0)
  t.equal(migrate.output(), `migrations applied (embedded PGlite in ${dataDir})\n`)
})

t.test('a wrong DATABASE_URL: exit 1 with the problem, no stack trace', async (t) => {
  const migrate = runScript(t, 'migrate-command', { DATABASE_URL: 'mysql://db/payments' })
  t.equal(await migrate.exited, 1)
  t.equal(
    migrate.output(),
    'Invalid configuration:\n  - DATABASE_URL must start with postgres:// or postgresql://, got "mysql://…"\n'
  )
})

t.test("an unreachable database: exit 1 with the driver's message, no stack trace", async (t) => {
  const migrate = runScript(t, 'migrate-command', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' })
  t.equal(await migrate.exited, 1)
  t.equal(migrate.output(), 'db:migrate failed: connect ECONNREFUSED 127.0.0.1:1\n')
})

t.test("a database that does not exist: exit 1 with the server's message", async (t) => {
  const url = new URL(await freshDatabase(t))
  url.pathname = '/no_such_database'
  const migrate = runScript(t, 'migrate-command', { DATABASE_URL: url.toString() })
  t.equal(await migrate.exited, 1)
  t.equal(migrate.output(), 'db:migrate failed: database "no_such_database" does not exist\n')
})
