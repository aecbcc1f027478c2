// Runs one instance: listens, prints how to try it in embedded mode, and shuts down
// gracefully on SIGINT/SIGTERM (see shutdown.ts).
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { seedDemo } from './demo.js'
import { logDestination } from './log-output.js'
import { shutDownOnSignals } from './shutdown.js'
import { welcomeText } from './welcome.js'

let config: Config
let app: FastifyInstance
try {
  config = loadConfig()
  // Building opens the database: without DATABASE_URL and without PGlite installed, that is a ConfigError too.
  app = await buildApp(config, { logger: { stream: logDestination(process.stdout) } })
} catch (err) {
  /* c8 ignore next -- anything else (a bug, an unreachable Postgres) keeps its stack */
  if (!(err instanceof ConfigError)) throw err
  console.error(err.message)
  process.exit(1)
}
shutDownOnSignals(app, config.shutdownGraceMs)
// The demo is seeded before listening, so its requests' log lines come before the listen line,
// and the banner after every line written so far: last and alone.
const demo = config.databaseUrl === undefined ? await seedDemo(app, config) : undefined
const address = await app.listen({ port: config.port, host: config.host })
if (demo !== undefined) console.log(welcomeText(config, address, demo))
