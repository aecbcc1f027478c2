// Runs one instance: listens, prints how to try it in embedded mode, and shuts down
// gracefully on SIGINT/SIGTERM (in-flight requests finish, new ones get 503, pools close).
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { seedDemo } from './demo.js'
import { welcomeText } from './welcome.js'

const SHUTDOWN_GRACE_MS = 10_000

let config: Config
try {
  config = loadConfig()
} catch (err) {
  /* c8 ignore next -- loadConfig throws nothing else; anything else is a bug worth its stack */
  if (!(err instanceof ConfigError)) throw err
  console.error(err.message)
  process.exit(1)
}

const app = await buildApp(config)
let closing = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    /* c8 ignore next 4 -- an operator's second Ctrl-C; racing it against a fast close is flaky to test */
    if (closing) {
      app.log.warn(`${signal} again: exiting without waiting`)
      process.exit(1)
    }
    closing = true
    app.log.info(`${signal}: draining in-flight requests, then closing`)
    /* c8 ignore start -- only when a request or pool refuses to finish in time */
    const force = setTimeout(() => {
      app.log.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS} ms: exiting`)
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    force.unref()
    const failed = (err: unknown) => {
      app.log.error({ err }, 'error while closing')
      process.exit(1)
    }
    /* c8 ignore stop */
    app.close().then(() => process.exit(0), failed)
  })
}

const address = await app.listen({ port: config.port, host: config.host })
if (config.databaseUrl === undefined) console.log(welcomeText(config, address, await seedDemo(app, config)))
