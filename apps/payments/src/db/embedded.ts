// The embedded database (PGlite), for running the service with nothing installed. Imported only
// when DATABASE_URL is not set (load-embedded.ts): production installs leave PGlite out.
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle } from 'drizzle-orm/pglite'
import { migrate } from 'drizzle-orm/pglite/migrator'
import type { Driver } from './database.js'
import { migrationsFolder } from './migrate.js'
import * as schema from './schema.js'
import type { Statement } from './statement.js'

/** Opens (creating it the first time) the database under `dataDir`/pglite. */
export async function openEmbedded(dataDir: string): Promise<Driver> {
  const dir = resolve(dataDir, 'pglite')
  await mkdir(dir, { recursive: true })
  const client = new PGlite(dir)
  const db = drizzle(client, { schema })
  return {
    db,
    run: async <Row>(statement: Statement<Row>, params: readonly unknown[]) =>
      (await client.query<Row>(statement.text, params as unknown[])).rows,
    // PGlite is one process's private database: nobody else can migrate it concurrently.
    migrate: () => migrate(db, { migrationsFolder }),
    close: () => client.close()
  }
}
