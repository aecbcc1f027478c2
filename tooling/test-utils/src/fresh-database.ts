import postgres from 'postgres'
import { databaseUrl } from './defaults.js'
import type { Teardown } from './teardown.js'
import { uniqueName } from './unique-name.js'

/**
 * Creates an empty Postgres database on the server of `DATABASE_URL`
 * (default `postgres://postgres@127.0.0.1:5432/postgres`) and returns its URL.
 * The database is dropped at teardown, closing whatever connections are left.
 */
export async function freshDatabase(t: Teardown): Promise<string> {
  const serverUrl = databaseUrl()
  const name = `test_${uniqueName('_')}`
  await withAdmin(serverUrl, (sql) => sql`CREATE DATABASE ${sql(name)}`)
  t.teardown(() => withAdmin(serverUrl, (sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`))
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

async function withAdmin(url: string, run: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(url, { max: 1 })
  try {
    await run(sql)
  } finally {
    await sql.end({ timeout: 5 })
  }
}
