import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'

/** The SQL written by drizzle-kit (`pnpm db:generate`) and committed with the code. */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url))
/** Any constant shared by every instance; pg_advisory_lock takes a bigint. */
const MIGRATION_LOCK_ID = 7_466_233_001

/**
 * Applies pending migrations on one dedicated connection holding a session advisory lock,
 * so instances that start together migrate one after the other and the later ones find
 * nothing left to do.
 */
export async function migratePostgresUnderLock(databaseUrl: string): Promise<void> {
  const connection = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await connection`SELECT pg_advisory_lock(${MIGRATION_LOCK_ID})`
    try {
      await migratePostgres(drizzle(connection), { migrationsFolder })
    } finally {
      await connection`SELECT pg_advisory_unlock(${MIGRATION_LOCK_ID})`
    }
  } finally {
    await connection.end({ timeout: 5 })
  }
}
