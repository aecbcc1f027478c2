import { request as httpRequest } from 'node:http'
import { waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { createHttpProvider } from '../src/purchases/http-provider.js'
import { Sandbox, SandboxRecipients } from '../src/purchases/sandbox.js'
import { startSandboxServer } from '../src/purchases/sandbox-server.js'
import { never, purchase, sandboxServer } from './helpers/providers.js'

// The sandbox server's side of the protocol: what it answers to requests that are not the
// protocol's, and how it stops. (Its behaviours are in provider-adapters.test.ts.)

t.test('what is not a request of the protocol: 400 or 404, with the reason', async (t) => {
  const { url } = await sandboxServer(t, new Sandbox())
  const post = (body: string) =>
    fetch(`${url}/fulfilments`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  const cases: Array<[string, Promise<Response>, number, RegExp]> = [
    ['a body that is not JSON', post('{'), 400, /not a fulfilment request/],
    [
      'a fulfilment request without an amount',
      post(JSON.stringify({ ...purchase(null), amount: undefined })),
      400,
      /not a fulfilment request/
    ],
    [
      'a provider it does not know',
      post(JSON.stringify(purchase(null, { provider: 'acme' as 'flash' }))),
      400,
      /not a fulfilment request/
    ],
    [
      'a body bigger than any request',
      post(JSON.stringify({ ...purchase(null), padding: 'x'.repeat(20_000) })),
      400,
      /not a fulfilment request/
    ],
    [
      'an id that is not percent-encoding',
      fetch(`${url}/fulfilments/%E0%A4%A`),
      400,
      /not valid percent-encoding/
    ],
    ['another path', fetch(`${url}/purchases`), 404, /no route GET \/purchases/],
    [
      'another method',
      fetch(`${url}/fulfilments/abc`, { method: 'DELETE' }),
      404,
      /no route DELETE \/fulfilments\/abc/
    ]
  ]
  for (const [what, answer, status, error] of cases) {
    const response = await answer
    t.equal(response.status, status, what)
    t.match(await response.json(), { error }, what)
  }
})

t.test(
  'close() drops the late fulfilments still waiting: their connections drop, their ids stay processing',
  async (t) => {
    const sandbox = new Sandbox({ delayMs: 60_000 })
    const server = await startSandboxServer({ sandbox, port: 0 })
    const provider = createHttpProvider({ url: server.url, timeoutMs: 30_000 })
    t.teardown(() => provider.close())
    const request = purchase(SandboxRecipients.late)
    const answer = provider.fulfil(request, never)
    await waitUntil(
      async () => (await provider.status(request.purchaseId, never)).status === 'processing',
      'the request to arrive'
    )
    await server.close()
    await t.rejects(answer, { code: 'PROVIDER_OUTCOME_UNKNOWN', message: /socket hang up/ })
    t.same(sandbox.status(request.purchaseId), { status: 'processing' })
    t.equal(sandbox.fulfilments, 0)
  }
)

t.test('a client that goes away in the middle of its request', async (t) => {
  const sandbox = new Sandbox()
  const { url } = await sandboxServer(t, sandbox)
  const request = httpRequest(`${url}/fulfilments`, { method: 'POST', headers: { 'content-length': 1000 } })
  request.on('error', () => {})
  request.write('{"purchaseId":', () => request.destroy())
  await new Promise((resolve) => request.once('close', resolve))
  const response = await fetch(`${url}/fulfilments/x`)
  t.same(await response.json(), { status: 'not-found' }, 'the server goes on serving')
})

t.test('on IPv6 the URL has brackets', async (t) => {
  const server = await startSandboxServer({ sandbox: new Sandbox(), host: '::1' })
  t.teardown(() => server.close())
  t.match(server.url, /^http:\/\/\[::1\]:\d+$/)
  t.same(await (await fetch(`${server.url}/fulfilments/x`)).json(), { status: 'not-found' })
})

t.test('a port in use: start rejects', async (t) => {
  const first = await sandboxServer(t, new Sandbox())
  await t.rejects(startSandboxServer({ sandbox: new Sandbox(), port: Number(new URL(first.url).port) }), {
    code: 'EADDRINUSE'
  })
})
