import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { migrateEmbedded, migratePostgresUnderLock } from './migrate.js'
import * as schema from './schema.js'
import type { Statement } from './statement.js'
import { withTimeout } from '../with-timeout.js'

/** The Drizzle database both drivers give: code above this layer never knows which it has. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  kind: 'postgres' | 'pglite'
  /** Runs a prepared statement (see statement.ts) and returns its rows. */
  run<Row>(statement: Statement<Row>, params: readonly unknown[]): Promise<Row[]>
  /** Applies pending migrations (see migrate.ts). */
  migrate(): Promise<void>
  /** Resolves when a trivial query answers within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** Postgres URL; without it an embedded PGlite database lives under `dataDir`. */
  url: string | undefined
  dataDir: string
  /** Connections per process (Postgres only). */
  poolSize?: number
  /** Upper bound on any one statement, so no request waits on Postgres forever. */
  statementTimeoutMs?: number
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url === undefined) return openPglite(options.dataDir)
  const client = postgres(options.url, {
    max: options.poolSize ?? 10,
    connect_timeout: 5,
    idle_timeout: 30,
    connection: { statement_timeout: options.statementTimeoutMs ?? 10_000, application_name: 'moolah-payments' }
  })
  const url = options.url
  return database(drizzlePostgres(client, { schema }), 'postgres', {
    run: <Row>(statement: Statement<Row>, params: readonly unknown[]) => client.unsafe(statement.text, params as never[], { prepare: true }) as unknown as Promise<Row[]>,
    migrate: () => migratePostgresUnderLock(url),
    close: () => client.end({ timeout: 5 })
  })
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = resolve(dataDir, 'pglite')
  await mkdir(dir, { recursive: true })
  const client = new PGlite(dir)
  const db = drizzlePglite(client, { schema })
  return database(db, 'pglite', {
    run: async <Row>(statement: Statement<Row>, params: readonly unknown[]) => (await client.query<Row>(statement.text, params as unknown[])).rows,
    migrate: () => migrateEmbedded(db),
    close: () => client.close()
  })
}

function database(db: Db, kind: Database['kind'], driver: Pick<Database, 'run' | 'migrate' | 'close'>): Database {
  return {
    db,
    kind,
    ...driver,
    ping: async (timeoutMs) => { await withTimeout(db.execute(sql`SELECT 1`), timeoutMs) }
  }
}
