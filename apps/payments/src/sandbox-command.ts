// `pnpm --filter @moolah/payments sandbox`: the sandbox provider over HTTP, for several
// instances to share (PROVIDER_URL=<the printed URL>). Its state lives only in this process.
// Stops on SIGINT/SIGTERM: late fulfilments still waiting are dropped, as a provider crash would.
import { ConfigError } from './config.js'
import { EnvReader } from './env-reader.js'
import { DEFAULT_SANDBOX_DELAY_MS, Sandbox } from './purchases/sandbox.js'
import { startSandboxServer, type SandboxServer } from './purchases/sandbox-server.js'

const read = new EnvReader(process.env)
const host = read.raw('SANDBOX_HOST') ?? '127.0.0.1'
const port = read.int('SANDBOX_PORT', 4010, 1, 65535)
const delayMs = read.int('SANDBOX_DELAY_MS', DEFAULT_SANDBOX_DELAY_MS, 0, 600_000)
if (read.problems.length > 0) {
  console.error(new ConfigError(read.problems).message)
  process.exit(1)
}

let server: SandboxServer
try {
  server = await startSandboxServer({ sandbox: new Sandbox({ delayMs }), host, port })
} catch (err) {
  // EADDRINUSE and the like: the message says it all.
  console.error(`sandbox failed to start: ${(err as Error).message}`)
  process.exit(1)
}
console.log(`sandbox provider listening on ${server.url} (SANDBOX_DELAY_MS=${delayMs})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close().then(() => console.log(`${signal}: sandbox provider stopped`))
  })
}
