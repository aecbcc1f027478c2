// `pnpm db:migrate`: applies the migrations and exits, for deploy pipelines that migrate
// before starting new instances (start-up migrates too; both are safe together). It reads
// DATABASE_URL (or DATA_DIR) only, and reports a failure as one line: it is an operator's tool.
import { ConfigError, loadDatabaseConfig } from './config.js'
import { openDatabase } from './db/database.js'

try {
  const config = loadDatabaseConfig()
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
  try {
    await database.migrate()
    console.log(
      `migrations applied (${database.kind === 'postgres' ? 'Postgres' : `embedded PGlite in ${config.dataDir}`})`
    )
  } finally {
    await database.close()
  }
} catch (err) {
  // The driver's message says what is wrong (refused, unknown host, no such database); a stack would not.
  console.error(err instanceof ConfigError ? err.message : `db:migrate failed: ${(err as Error).message}`)
  process.exitCode = 1
}
