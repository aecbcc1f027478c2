import { createServer } from 'node:net'
import { once } from 'node:events'
import { freePort } from '@moolah/test-utils'
import t from 'tap'
import { createHttpProvider } from '../src/purchases/http-provider.js'
import { SandboxRecipients } from '../src/purchases/sandbox.js'
import { runScript } from './helpers/child.js'
import { never, purchase } from './helpers/providers.js'

// `pnpm --filter @moolah/payments sandbox` (src/sandbox-command.ts) as an operator runs it: a process of its own.

t.test('serves the sandbox where it says, with SANDBOX_DELAY_MS, until SIGTERM', async (t) => {
  const port = await freePort()
  const sandbox = runScript(t, 'sandbox-command', { SANDBOX_PORT: String(port), SANDBOX_DELAY_MS: '50' })
  const [, url] = await sandbox.waitFor(/sandbox provider listening on (\S+) \(SANDBOX_DELAY_MS=50\)/)
  t.equal(url, `http://127.0.0.1:${port}`)

  const provider = createHttpProvider({ url: url as string, timeoutMs: 30_000 })
  t.teardown(() => provider.close())
  const request = purchase(SandboxRecipients.late)
  const outcome = await provider.fulfil(request, never)
  t.match(outcome, { status: 'fulfilled' }, 'the late recipient, after 50 ms')
  t.same(await provider.status(request.purchaseId, never), outcome)
  await provider.close()

  sandbox.process.kill('SIGTERM')
  t.equal(await sandbox.exited, 0)
  t.match(sandbox.output(), /SIGTERM: sandbox provider stopped\n$/)
})

t.test('SIGINT stops it too, with a keep-alive client still connected', async (t) => {
  const sandbox = runScript(t, 'sandbox-command', {
    SANDBOX_HOST: '127.0.0.1',
    SANDBOX_PORT: String(await freePort())
  })
  const [, url] = await sandbox.waitFor(/listening on (\S+) \(SANDBOX_DELAY_MS=5000\)/)
  const provider = createHttpProvider({ url: url as string, timeoutMs: 30_000 })
  t.teardown(() => provider.close())
  t.same(await provider.status('unknown', never), { status: 'not-found' })
  sandbox.process.kill('SIGINT')
  t.equal(await sandbox.exited, 0)
  t.match(sandbox.output(), /SIGINT: sandbox provider stopped\n$/)
})

t.test('a wrong variable: exit 1 with every problem, no stack trace', async (t) => {
  const sandbox = runScript(t, 'sandbox-command', { SANDBOX_PORT: 'http', SANDBOX_DELAY_MS: '-1' })
  t.equal(await sandbox.exited, 1)
  t.equal(
    sandbox.output(),
    'Invalid configuration:\n' +
      '  - SANDBOX_PORT must be a whole number from 1 to 65535, got "http"\n' +
      '  - SANDBOX_DELAY_MS must be a whole number from 0 to 600000, got "-1"\n'
  )
})

t.test('a port in use: exit 1 with the reason', async (t) => {
  const port = await freePort()
  const taken = createServer().listen(port, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => new Promise((resolve) => taken.close(resolve)))
  const sandbox = runScript(t, 'sandbox-command', { SANDBOX_PORT: String(port) })
  t.equal(await sandbox.exited, 1)
  t.equal(
    sandbox.output(),
    `sandbox failed to start: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`
  )
})
