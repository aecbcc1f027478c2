import { randomUUID } from 'node:crypto'
import { Agent, get } from 'node:http'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freshDatabase, redisPrefix, type Teardown } from '@moolah/test-utils'
import t from 'tap'
import { ADMIN_TOKEN, startApp } from './helpers/app.js'
import { runScript, type Child } from './helpers/child.js'

// Graceful shutdown of a real process (src/server.ts): SIGTERM while a keep-alive connection
// idles, a request is in flight and another arrives during the drain. The request in flight is
// one whose body the client is still sending: the server has taken it on, and it lasts as long
// as the test wants, whatever the service's own timeouts.

async function startServer(
  t: Teardown,
  env: Record<string, string> = {}
): Promise<{ server: Child; address: URL; databaseUrl: string }> {
  const databaseUrl = await freshDatabase(t)
  const server = runScript(t, 'server', {
    PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN,
    ...env
  })
  const [, address] = await server.waitFor(/Server listening at (http:\/\/[\d.:]+)/)
  return { server, address: new URL(address as string), databaseUrl }
}

/** A raw connection, for requests written piece by piece and pipelined; `received` resolves at close. */
function rawConnection(address: URL): { socket: Socket; received: Promise<string> } {
  const socket = connect(Number(address.port), address.hostname)
  const received = new Promise<string>((resolve) => {
    let data = ''
    socket.on('data', (chunk) => {
      data += chunk.toString()
    })
    socket.on('close', () => resolve(data))
    socket.on('error', () => {}) // a reset is a close too; what arrived before it is what counts
  })
  return { socket, received }
}

/** A POST's head and body, to be written in two parts: the request is in flight in between. */
function post(
  address: URL,
  path: string,
  headers: Record<string, string>,
  payload: object
): { head: string; body: string } {
  const body = JSON.stringify(payload)
  const lines = Object.entries({
    Host: address.host,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    ...headers
  }).map(([name, value]) => `${name}: ${value}\r\n`)
  return { head: `POST ${path} HTTP/1.1\r\n${lines.join('')}\r\n`, body }
}

/** Starts a request and sends half its body: it stays in flight until the rest is written. */
async function startSlowRequest(
  address: URL,
  request: { head: string; body: string },
  server: Child
): Promise<{ socket: Socket; received: Promise<string>; finish(): void }> {
  const connection = rawConnection(address)
  const half = Math.floor(request.body.length / 2)
  connection.socket.write(request.head + request.body.slice(0, half))
  // The server logs the request once its head is in: from then on it is in flight.
  await server.waitFor(new RegExp(`"url":"${request.head.split(' ')[1]}".*"msg":"incoming request"`))
  return { ...connection, finish: () => connection.socket.write(request.body.slice(half)) }
}

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** Splits what a connection received into its HTTP/1.1 responses (each with a Content-Length). */
function parseResponses(data: string): RawResponse[] {
  const responses: RawResponse[] = []
  let rest = data
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n')
    const [statusLine = '', ...lines] = rest.slice(0, headEnd).split('\r\n')
    const headers = Object.fromEntries(
      lines.map((line) => [
        line.slice(0, line.indexOf(':')).toLowerCase(),
        line.slice(line.indexOf(':') + 1).trim()
      ])
    )
    const length = Number(headers['content-length'])
    responses.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: rest.slice(headEnd + 4, headEnd + 4 + length)
    })
    rest = rest.slice(headEnd + 4 + length)
  }
  return responses
}

t.test(
  'SIGTERM: idle connections close at once, the request in flight completes, a new one gets a problem, exit 0',
  async (t) => {
    const { prefix, url: redisUrl } = redisPrefix(t)
    const env = { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix }
    const { server, address, databaseUrl } = await startServer(t, env)
    const call = async (path: string, token: string, body: object) => {
      const response = await fetch(new URL(path, address), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID()
        },
        body: JSON.stringify(body)
      })
      return (await response.json()) as { id: string; apiKey: string }
    }
    const user = await call('/v1/users', ADMIN_TOKEN, { name: 'Sipho' })
    const wallet = await call('/v1/wallets', user.apiKey, { currency: 'ZAR' })

    // A keep-alive connection that has served a request and now idles.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => agent.destroy())
    const idleSocket = await new Promise<Socket>((resolve, reject) => {
      get(new URL('/health/live', address), { agent }, (response) => {
        const socket = response.socket
        response.resume()
        response.on('end', () => resolve(socket))
      }).on('error', reject)
    })
    const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', resolve))

    // A deposit in flight, on a connection kept alive.
    const deposit = post(
      address,
      '/v1/deposits',
      { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Idempotency-Key': 'deposit-during-shutdown' },
      { walletId: wallet.id, amount: 1000 }
    )
    const busy = await startSlowRequest(address, deposit, server)

    server.process.kill('SIGTERM')
    await server.waitFor(/SIGTERM: draining in-flight requests/)
    await idleClosed
    t.pass('the idle keep-alive connection was closed at once')
    await t.rejects(fetch(new URL('/health/live', address)), 'new connections are refused')
    await sleep(500)
    t.equal(server.process.exitCode, null, 'still running while a request is in flight')

    // The rest of the deposit, and right behind it on the same connection a request that
    // arrives during the drain.
    const finished = Date.now()
    busy.finish()
    busy.socket.write(`GET /health/live HTTP/1.1\r\nHost: ${address.host}\r\nX-Request-Id: refused-1\r\n\r\n`)
    const [deposited, refused] = parseResponses(await busy.received)
    t.equal(deposited?.status, 201, 'the request in flight completed')
    const { id: depositId } = JSON.parse(deposited?.body ?? '{}')
    t.equal(refused?.status, 503)
    t.match(refused?.headers, {
      'content-type': 'application/problem+json; charset=utf-8',
      connection: 'close',
      'retry-after': '1',
      'x-request-id': 'refused-1'
    })
    t.same(JSON.parse(refused?.body ?? '{}'), {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'This instance is shutting down; retry the request.',
      code: 'SERVICE_UNAVAILABLE',
      instance: '/health/live',
      requestId: 'refused-1'
    })
    t.match(
      server.output(),
      /"requestId":"refused-1","method":"GET","url":"\/health\/live","msg":"shutting down: request refused"/
    )

    t.equal(await server.exited, 0, 'exits 0')
    const drained = Date.now() - finished
    t.ok(drained < 5000, `exits as soon as the work is done (${drained} ms after the request was complete)`)
    t.notMatch(server.output(), /"level":50/, 'no error logged')

    // The deposit finished before the process went away, so its key holds the answer: a retry
    // on another instance is replayed, not kept waiting with 409 IDEMPOTENCY_KEY_IN_USE.
    const other = await startApp(t, { DATABASE_URL: databaseUrl, ...env })
    const retry = await other.inject({
      method: 'POST',
      url: '/v1/deposits',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'idempotency-key': 'deposit-during-shutdown' },
      payload: { walletId: wallet.id, amount: 1000 }
    })
    t.equal(retry.statusCode, 201)
    t.equal(retry.headers['idempotent-replayed'], 'true')
    t.equal(retry.json().id, depositId, 'the same deposit')
  }
)

const createUser = (address: URL, name: string) =>
  post(address, '/v1/users', { Authorization: `Bearer ${ADMIN_TOKEN}` }, { name })

t.test('a request still in flight after SHUTDOWN_GRACE_MS: exit 1 and an error log', async (t) => {
  const { server, address } = await startServer(t, { SHUTDOWN_GRACE_MS: '1500' })
  const stuck = await startSlowRequest(address, createUser(address, 'Stuck Sizwe'), server)

  const signalled = Date.now()
  server.process.kill('SIGTERM')
  t.equal(await server.exited, 1, 'exits 1')
  const waited = Date.now() - signalled
  t.ok(waited >= 1400, `after the grace period (${waited} ms)`)
  t.match(
    server.output(),
    /"level":50,.*"msg":"shutdown did not finish within SHUTDOWN_GRACE_MS \(1500 ms\): exiting"/
  )
  t.equal(await stuck.received, '', 'the request was cut without an answer')
})

t.test('a second signal while draining: exit 1 at once', async (t) => {
  const { server, address } = await startServer(t)
  await startSlowRequest(address, createUser(address, 'Impatient Ike'), server)

  server.process.kill('SIGINT')
  await server.waitFor(/SIGINT: draining in-flight requests/)
  server.process.kill('SIGINT')
  t.equal(await server.exited, 1)
  t.match(server.output(), /"level":40,.*"msg":"SIGINT again: exiting without waiting"/)
})
