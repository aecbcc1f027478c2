import { TimeoutError, Timeouts } from '@moolah/plugin-kit'
import { sql } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { loadEmbedded } from './load-embedded.js'
import { migratePostgresUnderLock } from './migrate.js'
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

/** What each driver provides; `database()` adds the deadlines on top. */
export type Driver = Pick<Database, 'db' | 'run' | 'migrate' | 'close'>

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
  if (options.url === undefined) {
    const { openEmbedded } = await loadEmbedded()
    return database('pglite', deadlines, await openEmbedded(options.dataDir))
  }
  const client = postgres(options.url, {
    max: options.poolSize ?? 10,
    connect_timeout: Math.ceil(deadlineMs / 1000),
    idle_timeout: 30,
    // The server ends a statement before the client's deadline, so a slow (not hung) server
    // frees the connection by itself.
    connection: { statement_timeout: Math.max(1, deadlineMs - 500), application_name: 'moolah-payments' }
  })
  const url = options.url
  return database('postgres', deadlines, {
    db: drizzlePostgres(client, { schema }),
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

function database(kind: Database['kind'], deadlines: Deadlines, driver: Driver): Database {
  return {
    kind,
    ...driver,
    bounded: (work) => deadlines.bound(work),
    ping: async (timeoutMs) => {
      await deadlines.within(driver.db.execute(sql`SELECT 1`), timeoutMs)
    }
  }
}
