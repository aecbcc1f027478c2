import t from 'tap'
import { runScript } from './helpers/child.js'
import { tempDataDir } from './helpers/app.js'

t.test(
  'embedded mode: starts with nothing configured, prints how to try it, drains on SIGTERM',
  async (t) => {
    const server = runScript(t, 'server', { PORT: '0', LOG_LEVEL: 'info', DATA_DIR: await tempDataDir(t) })
    const output = server.output
    const [, address] = await server.waitFor(/running at (http:\/\/\S+)/)
    await server.waitFor(/ {2}open \S+\/docs\n/)
    t.match(output(), /admin token: \S{32}/, 'prints the generated admin token')
    t.match(output(), /single instance only/)

    // The banner comes after the seeding's lines and the listen line, alone (stdout is a pipe: JSON lines).
    const lines = output().split('\n')
    const bannerStart = lines.findIndex((line) => line.includes('running at'))
    const bannerEnd = lines.findIndex((line) => line.startsWith('  open '))
    const logLines = lines
      .slice(0, bannerStart)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
    t.match(
      logLines.at(-1),
      { msg: /^Server listening at / },
      'the listen line is the last log line before the banner'
    )
    t.ok(
      logLines.some(
        (line) => line.msg === 'money movement' && line.idempotencyKey.startsWith('demo-deposit-')
      ),
      'the seeding logged before it'
    )
    t.notOk(
      lines.slice(bannerStart, bannerEnd + 1).some((line) => line.startsWith('{')),
      'no log line inside the banner'
    )

    const live = await fetch(`${address}/health/live`)
    t.equal(live.status, 200)
    t.same(await live.json(), { status: 'ok' })

    // Every printed curl command works as printed: list, deposit, transfer, purchase, history, catalog.
    const commands = output()
      .split('\n')
      .filter((line) => line.trim().startsWith('curl '))
    t.equal(commands.length, 6)
    const answers = []
    for (const command of commands) answers.push(await runCurl(command))
    t.same(
      answers.map(({ status }) => status),
      [200, 201, 201, 201, 200, 200]
    )
    t.equal(answers[0]?.body.items.length, 2, 'the demo user has two wallets')
    t.match(answers[1]?.body, { amount: 5000, currency: 'ZAR' }, 'the deposit went through')
    t.match(answers[2]?.body, { amount: 2500, status: 'completed' }, 'the transfer went through')
    t.match(
      answers[3]?.body,
      { productId: 'flash-vodacom-airtime-10', amount: 1000, recipient: '+27821234567', status: 'completed' },
      'the purchase went through (the sandbox in process)'
    )
    t.match(answers[4]?.body.items, [
      { kind: 'purchase', direction: 'debit', amount: 1000, balanceAfter: 96_500 },
      { kind: 'transfer', direction: 'debit', amount: 2500, balanceAfter: 97_500 },
      { kind: 'deposit', direction: 'credit', amount: 100_000 }
    ])
    t.match(answers[5]?.body, { provider: 'flash', products: Array })

    server.process.kill('SIGTERM')
    t.equal(await server.exited, 0, 'a graceful shutdown exits 0')
  }
)

/** Runs a printed `curl -s [-X METHOD] URL [-H 'h: v']… [-d 'json']` with fetch. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary JSON answers, matched by the assertions
async function runCurl(command: string): Promise<{ status: number; body: any }> {
  const url = /(http:\/\/\S+)/.exec(command)?.[1] as string
  const method = /-X (\w+)/.exec(command)?.[1] ?? 'GET'
  const headers = Object.fromEntries(
    [...command.matchAll(/-H '([^:]+): ([^']*)'/g)].map(([, name, value]) => [
      name as string,
      value as string
    ])
  )
  const body = /-d '([^']*)'/.exec(command)?.[1]
  const response = await fetch(url, { method, headers, body })
  return { status: response.status, body: await response.json() }
}

t.test('bad configuration: exits 1 listing the problems, no stack trace', async (t) => {
  const server = runScript(t, 'server', {
    PORT: 'eighty',
    DATABASE_URL: 'postgres://127.0.0.1/x',
    ADMIN_TOKEN: 'change-me-to-a-long-random-secret'
  })
  t.equal(await server.exited, 1)
  t.match(
    server.output(),
    /Invalid configuration:\n {2}- ADMIN_TOKEN must be a random secret .* contains "change"\n {2}- PORT must be a whole number/
  )
  t.notMatch(server.output(), /at .*\.ts:\d+/)
})
