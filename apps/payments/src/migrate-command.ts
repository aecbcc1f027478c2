// `pnpm db:migrate`: applies the migrations and exits, for deploy pipelines that migrate
// before starting new instances (start-up migrates too; both are safe together).
import { loadConfig } from './config.js'
import { openDatabase } from './db/database.js'

const config = loadConfig()
const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir })
try {
  await database.migrate()
  console.log(`migrations applied (${database.kind === 'postgres' ? 'Postgres' : `embedded PGlite in ${config.dataDir}`})`)
} finally {
  await database.close()
}
