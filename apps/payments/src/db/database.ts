import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { TimeoutError, Timeouts } from '@moolah/plugin-kit'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { migrateEmbedded, migratePostgresUnderLock } from './migrate.js'
import * as schema from './schema.js'
import type { Statement } from './statement.js'

/** The Drizzle database both drivers give: code above this layer never knows which it has. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>

export interface Database {
  db: Db
  kind: 'postgres' | 'pglite'
  /** Runs a prepared statement (see statement.ts) and returns its rows. */
  run<Row>(statement: Statement<Row>, params: readonly unknown[]): Promise<Row[]>
  /** Applies pending migrations (see migrate.ts). */
  migrate(): Promise<void>
  /**
   * Settles `work` (a request's database calls) within the client-side deadline, or rejects
   * with DATABASE_DEADLINE (answered 503): a server that hangs cannot enforce its own
   * statement_timeout, and a request must not wait for a pool connection without a bound.
   */
  bounded<T>(work: PromiseLike<T>): Promise<T>
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
  /** The client-side deadline of `run` and `bounded`. Default 2500 ms. */
  deadlineMs?: number
}

/** The client gave up on Postgres: it did not answer within the deadline. */
export class DatabaseDeadline extends Error {
  readonly code = 'DATABASE_DEADLINE'
  constructor(deadlineMs: number) {
    super(`Postgres did not answer within ${deadlineMs} ms`)
    this.name = 'DatabaseDeadline'
  }
}

/** Deadlines on one shared timer (plugin-kit's Timeouts); a missed one is a DatabaseDeadline. */
class Deadlines {
  readonly #timeouts: Timeouts

  constructor(deadlineMs: number) {
    this.#timeouts = new Timeouts(deadlineMs)
  }

  /** Settles like `work`, or rejects with DatabaseDeadline once the deadline has passed. */
  async bound<T>(work: PromiseLike<T>): Promise<T> {
    try {
      return await this.#timeouts.run(Promise.resolve(work), 'Postgres')
    } catch (error) {
      throw error instanceof TimeoutError ? new DatabaseDeadline(this.#timeouts.timeoutMs) : error
    }
  }

  /** Settles like `work`, or rejects with a TimeoutError after `timeoutMs`. */
  within<T>(work: PromiseLike<T>, timeoutMs: number): Promise<T> {
    return this.#timeouts.run(Promise.resolve(work), 'Postgres ping', timeoutMs)
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const deadlineMs = options.deadlineMs ?? 2500
  const deadlines = new Deadlines(deadlineMs)
  if (options.url === undefined) return openPglite(options.dataDir, deadlines)
  const client = postgres(options.url, {
    max: options.poolSize ?? 10,
    connect_timeout: Math.ceil(deadlineMs / 1000),
    idle_timeout: 30,
    // The server ends a statement before the client's deadline, so a slow (not hung) server
    // frees the connection by itself.
    connection: { statement_timeout: Math.max(1, deadlineMs - 500), application_name: 'moolah-payments' }
  })
  const url = options.url
  return database(drizzlePostgres(client, { schema }), 'postgres', deadlines, {
    run: async <Row>(statement: Statement<Row>, params: readonly unknown[]) => {
      const query = client.unsafe(statement.text, params as never[], { prepare: true })
      try {
        return (await deadlines.bound(query)) as unknown as Row[]
      } catch (error) {
        // Still queued for a connection: it must not run after its request was answered 503.
        if (error instanceof DatabaseDeadline) void query.cancel()
        throw error
      }
    },
    migrate: () => migratePostgresUnderLock(url),
    close: () => client.end({ timeout: 5 })
  })
}

async function openPglite(dataDir: string, deadlines: Deadlines): Promise<Database> {
  const dir = resolve(dataDir, 'pglite')
  await mkdir(dir, { recursive: true })
  const client = new PGlite(dir)
  const db = drizzlePglite(client, { schema })
  return database(db, 'pglite', deadlines, {
    run: async <Row>(statement: Statement<Row>, params: readonly unknown[]) =>
      (await client.query<Row>(statement.text, params as unknown[])).rows,
    migrate: () => migrateEmbedded(db),
    close: () => client.close()
  })
}

function database(
  db: Db,
  kind: Database['kind'],
  deadlines: Deadlines,
  driver: Pick<Database, 'run' | 'migrate' | 'close'>
): Database {
  return {
    db,
    kind,
    ...driver,
    bounded: (work) => deadlines.bound(work),
    ping: async (timeoutMs) => {
      await deadlines.within(db.execute(sql`SELECT 1`), timeoutMs)
    }
  }
}
