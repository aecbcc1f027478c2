// Runs one instance: listens, prints how to try it in embedded mode, and shuts down
// gracefully on SIGINT/SIGTERM (see shutdown.ts).
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { seedDemo } from './demo.js'
import { logDestination } from './log-output.js'
import { shutDownOnSignals } from './shutdown.js'
import { welcomeText } from './welcome.js'

let config: Config
try {
  config = loadConfig()
} catch (err) {
  /* c8 ignore next -- loadConfig throws nothing else; anything else is a bug worth its stack */
  if (!(err instanceof ConfigError)) throw err
  console.error(err.message)
  process.exit(1)
}

const app = await buildApp(config, { logger: { stream: logDestination(process.stdout) } })
shutDownOnSignals(app, config.shutdownGraceMs)
// The demo is seeded before listening, so its requests' log lines come before the listen line,
// and the banner after every line written so far: last and alone.
const demo = config.databaseUrl === undefined ? await seedDemo(app, config) : undefined
const address = await app.listen({ port: config.port, host: config.host })
if (demo !== undefined) console.log(welcomeText(config, address, demo))
