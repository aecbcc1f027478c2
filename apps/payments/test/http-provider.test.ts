import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { freePort, waitUntil, type Teardown } from '@moolah/test-utils'
import t from 'tap'
import { createHttpProvider } from '../src/purchases/http-provider.js'
import { SandboxRecipients } from '../src/purchases/sandbox.js'
import { never, overHttpRig, purchase } from './helpers/providers.js'

// What only the HTTP provider meets: a client timeout, a provider that refuses, errs or
// answers nonsense, keep-alive sockets. Every one of them is an unknown outcome for `fulfil`
// and "ask again later" for `status`, never a crash and never a guess.

const unknown = { code: 'PROVIDER_OUTCOME_UNKNOWN' }
const unavailable = { code: 'PROVIDER_STATUS_UNAVAILABLE' }

interface ScriptedProvider {
  url: string
  /** Every request received: method, URL, headers and body. */
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>
  /** The server side of every connection made to it. */
  connections: Socket[]
}

/** A provider on a real socket that answers what `answer` says: to check the client against a misbehaving provider. */
async function scriptedProvider(
  t: Teardown,
  answer: (response: ServerResponse) => void
): Promise<ScriptedProvider> {
  const requests: ScriptedProvider['requests'] = []
  const connections: Socket[] = []
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const chunk of request) body += String(chunk)
    requests.push({
      method: request.method as string,
      url: request.url as string,
      headers: request.headers,
      body
    })
    answer(response)
  })
  server.on('connection', (socket: Socket) => connections.push(socket))
  // Only the client closes an idle connection.
  server.keepAliveTimeout = 600_000
  const port = await freePort()
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  )
  return { url: `http://127.0.0.1:${port}`, requests, connections }
}

const json =
  (body: string, statusCode = 200) =>
  (response: ServerResponse) => {
    response.writeHead(statusCode, { 'content-type': 'application/json' })
    response.end(body)
  }

t.test('an answer later than timeoutMs: unknown now; the provider fulfils it later, once', async (t) => {
  const { provider, sandbox } = await overHttpRig(t, 2500, 1000)
  const request = purchase(SandboxRecipients.late)
  await t.rejects(provider.fulfil(request, never), { ...unknown, message: /no answer within 1000 ms/ })
  t.same(await provider.status(request.purchaseId, never), { status: 'processing' })
  await waitUntil(
    async () => (await provider.status(request.purchaseId, never)).status !== 'processing',
    'the late fulfilment'
  )
  t.match(await provider.status(request.purchaseId, never), {
    status: 'fulfilled',
    fulfilment: { serial: /^SBX/ }
  })
  t.equal(sandbox.fulfilments, 1)
})

t.test('nothing listening: unknown outcome, status unavailable', async (t) => {
  const provider = createHttpProvider({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await t.rejects(provider.fulfil(purchase('+27821234567'), never), { ...unknown, message: /ECONNREFUSED/ })
  await t.rejects(provider.status('any', never), { ...unavailable, message: /ECONNREFUSED/ })
})

t.test('a status other than 2xx is no answer, whatever its body says', async (t) => {
  const scripted = await scriptedProvider(t, json('{"status":"failed","failureCode":"DECLINED"}', 503))
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await t.rejects(provider.fulfil(purchase('+27821234567'), never), { ...unknown, message: /answered 503/ })
  await t.rejects(provider.status('any', never), { ...unavailable, message: /answered 503/ })
})

t.test('a malformed answer is no answer', async (t) => {
  const bodies = {
    'not JSON': ['<html>hello</html>', /not JSON/],
    'fulfilled without a field': ['{"status":"fulfilled","fulfilment":{}}', /does not follow the protocol/],
    'a field the protocol does not have': [
      '{"status":"fulfilled","fulfilment":{"pin":"1234","colour":"red"}}',
      /does not follow the protocol/
    ],
    'failed without a code': ['{"status":"failed"}', /does not follow the protocol/],
    'a status for an outcome': ['{"status":"processing"}', /does not follow the protocol/],
    'too long': [
      JSON.stringify({ status: 'failed', failureCode: 'X'.repeat(100_000) }),
      /longer than 65536 bytes/
    ]
  } as const
  for (const [what, [body, message]] of Object.entries(bodies)) {
    const scripted = await scriptedProvider(t, json(body))
    const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
    t.teardown(() => provider.close())
    await t.rejects(provider.fulfil(purchase('+27821234567'), never), { ...unknown, message }, what)
  }
  const scripted = await scriptedProvider(t, json('{"status":"lost"}'))
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await t.rejects(
    provider.status('any', never),
    { ...unavailable, message: /does not follow the protocol/ },
    'an unknown status'
  )
})

t.test('a connection dropped in the middle of the answer', async (t) => {
  const scripted = await scriptedProvider(t, (response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 })
    response.write('{"status":"fulf', () => response.destroy())
  })
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await t.rejects(provider.fulfil(purchase('+27821234567'), never), unknown)
})

t.test('timeoutMs covers the whole answer: a provider that stops in the middle of its body', async (t) => {
  const scripted = await scriptedProvider(t, (response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 })
    response.write('{"status":"fulf')
  })
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 300 })
  t.teardown(() => provider.close())
  await t.rejects(provider.fulfil(purchase('+27821234567'), never), {
    ...unknown,
    message: /no answer within 300 ms/
  })
  await t.rejects(provider.status('any', never), { ...unavailable, message: /no answer within 300 ms/ })
})

t.test('the requests: below the base path, JSON, the purchase id encoded', async (t) => {
  const scripted = await scriptedProvider(t, json('{"status":"not-found"}'))
  const provider = createHttpProvider({ url: `${scripted.url}/v1`, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  const request = purchase(null)
  await t.rejects(provider.fulfil(request, never), unknown)
  t.same(await provider.status('a/b?c', never), { status: 'not-found' })
  t.match(scripted.requests, [
    {
      method: 'POST',
      url: '/v1/fulfilments',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(request)
    },
    { method: 'GET', url: '/v1/fulfilments/a%2Fb%3Fc', body: '' }
  ])
})

t.test('the sandbox server finds an id that needs encoding', async (t) => {
  const { provider } = await overHttpRig(t, 0)
  const request = purchase('+27821234567', { purchaseId: 'a/b?c#d e' })
  const outcome = await provider.fulfil(request, never)
  t.same(await provider.status(request.purchaseId, never), outcome)
})

t.test('keep-alive: one connection for several calls; close() releases it', async (t) => {
  const scripted = await scriptedProvider(t, json('{"status":"failed","failureCode":"DECLINED"}'))
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
  for (let i = 0; i < 3; i++) await provider.fulfil(purchase(SandboxRecipients.declined), never)
  t.equal(scripted.requests.length, 3)
  t.equal(scripted.connections.length, 1)
  const closed = once(scripted.connections[0] as Socket, 'close')
  await provider.close()
  await closed
  t.pass('the connection is closed')
})

t.test('an idle connection is closed by the client before a Node server would close it (5 s)', async (t) => {
  const scripted = await scriptedProvider(t, json('{"status":"not-found"}'))
  const provider = createHttpProvider({ url: scripted.url, timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await provider.status('any', never)
  let closed = false
  scripted.connections[0]?.once('close', () => {
    closed = true
  })
  await waitUntil(
    () => closed,
    'the client to close the idle connection (the server would keep it 10 minutes)',
    15_000
  )
  t.pass('closed by the client')
})

t.test('only http: and https: URLs', async (t) => {
  t.throws(() => createHttpProvider({ url: 'ftp://provider.example', timeoutMs: 5000 }), {
    name: 'TypeError',
    message: /http: or https:, got "ftp:"/
  })
})

t.test('https: speaks TLS (so a plain HTTP server is no answer)', async (t) => {
  const { server } = await overHttpRig(t, 0)
  const provider = createHttpProvider({ url: server.url.replace('http:', 'https:'), timeoutMs: 5000 })
  t.teardown(() => provider.close())
  await t.rejects(provider.fulfil(purchase('+27821234567'), never), unknown)
})
