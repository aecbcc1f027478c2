import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '@moolah/test-utils'
import t, { type Test } from 'tap'
import { buildApp, gate, post } from './support/app.js'

/** A real HTTP request (inject cannot drop a connection); `abort` drops it mid-flight. */
function send(port: number, key: string): { done: Promise<void>; abort: () => void } {
  const request = httpRequest({
    port,
    method: 'POST',
    path: '/slow',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-user': 'alice' }
  })
  const done = new Promise<void>((resolve) => {
    request.on('error', () => resolve())
    request.on('response', (response) => {
      response.resume()
      response.on('end', resolve)
    })
  })
  request.end('{}')
  t.teardown(() => request.destroy())
  return { done, abort: () => request.destroy() }
}

const LEASE_MS = 90

/** A route whose handler waits for `finish()`, on a real port. */
async function slowApp(t: Test, fastifyOptions = {}) {
  let started = 0
  const held = gate()
  const built = await buildApp(
    t,
    { leaseMs: LEASE_MS },
    (app) => {
      app.post('/slow', async (_request, reply) => {
        started++
        await held.promise
        return reply.code(201).send({ ok: true })
      })
    },
    fastifyOptions
  )
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  return {
    ...built,
    port: (built.app.server.address() as AddressInfo).port,
    started: () => started,
    finish: held.open
  }
}

t.test(
  'a client that goes away mid-POST stops the renewal; a late commit is refused once the lease lapsed',
  async (t) => {
    const { app, events, port, started, finish } = await slowApp(t)
    const { done, abort } = send(port, 'abort')
    await waitUntil(async () => started() === 1, 'the handler to start')
    abort()
    await done
    // Renewal stops at the first tick after the server saw the socket close; then the lease runs out
    await sleep(LEASE_MS * 5)
    finish()
    await waitUntil(
      async () => events.some((event) => event.type === 'lease-lost'),
      'the commit to be refused'
    )
    t.match(
      events.find((event) => event.type === 'lease-lost'),
      { operation: 'commit' }
    )
    t.equal((await post(app, '/slow', 'abort', {})).statusCode, 201, 'the retry runs')
  }
)

t.test('a socket timeout stops the renewal too', async (t) => {
  const { events, port, started, finish } = await slowApp(t, { connectionTimeout: 50 })
  const { done } = send(port, 'timeout')
  await waitUntil(async () => started() === 1, 'the handler to start')
  await done
  await sleep(LEASE_MS * 5)
  finish()
  await waitUntil(async () => events.some((event) => event.type === 'lease-lost'), 'the commit to be refused')
  t.notOk(events.some((event) => event.type === 'committed'))
})

t.test('Node streams are buffered up to maxBodyBytes and replayed exactly', async (t) => {
  let calls = 0
  const { app, events } = await buildApp(t, { maxBodyBytes: 1000 }, (app) => {
    app.post('/small', async (_request, reply) => {
      calls++
      return reply.type('text/csv').send(Readable.from(['a,b\n', Buffer.from('1,2\n'), `${calls},x\n`]))
    })
    app.post('/large', async (_request, reply) => {
      calls++
      return reply
        .type('text/csv')
        .send(Readable.from([Buffer.alloc(600, 'a'), 'b'.repeat(600), Buffer.alloc(600, 'c')]))
    })
    app.post('/large-buffer', async () => {
      calls++
      return 'x'.repeat(1001)
    })
    app.post('/bytes', async (_request, reply) => {
      calls++
      return reply.type('application/octet-stream').send(new Uint8Array([0, 104, 105, calls]).subarray(1, 4))
    })
  })
  const first = await post(app, '/small', 's')
  t.equal(first.body, 'a,b\n1,2\n1,x\n')
  const replay = await post(app, '/small', 's')
  t.equal(replay.body, first.body)
  t.equal(replay.headers['content-type'], 'text/csv')
  t.equal(replay.headers['idempotent-replayed'], 'true')

  const large = await post(app, '/large', 'l')
  t.equal(
    large.body,
    'a'.repeat(600) + 'b'.repeat(600) + 'c'.repeat(600),
    'the client gets every byte of a stream over the limit'
  )
  t.equal(
    (await post(app, '/large', 'l')).headers['idempotent-replayed'],
    undefined,
    'it was not stored: the retry runs'
  )
  t.equal((await post(app, '/large-buffer', 'b')).body.length, 1001)
  t.equal((await post(app, '/large-buffer', 'b')).headers['idempotent-replayed'], undefined)
  const bytes = await post(app, '/bytes', 'u')
  t.same(
    [...bytes.rawPayload],
    [104, 105, 6],
    'a typed array view is stored by its own bytes, not its whole buffer'
  )
  t.same((await post(app, '/bytes', 'u')).rawPayload, bytes.rawPayload)
  t.equal(calls, 6)
  t.same(
    events
      .filter((event) => event.type === 'released')
      .map((event) => event.type === 'released' && event.reason),
    ['too-large', 'too-large', 'too-large', 'too-large']
  )
})

t.test('web streams and hijacked replies cannot be stored: the key is released', async (t) => {
  let calls = 0
  // The tick that finds the reply ended comes a third of the lease after the claim, long before it ends
  const { app, events } = await buildApp(t, { leaseMs: 1500 }, (app) => {
    app.post('/web', async (_request, reply) => {
      calls++
      return reply.type('text/plain').send(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('web'))
            controller.close()
          }
        })
      )
    })
    app.post('/hijack', async (_request, reply) => {
      calls++
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'text/plain' })
      reply.raw.end('raw')
    })
  })
  t.equal((await post(app, '/web', 'w')).body, 'web')
  t.equal((await post(app, '/web', 'w')).body, 'web')
  t.equal((await post(app, '/hijack', 'h')).body, 'raw')
  // No onSend ran: the next renewal tick finds the reply ended and gives the key back.
  await waitUntil(
    async () => events.filter((event) => event.type === 'released').length === 3,
    'the hijacked claim to be released'
  )
  t.equal((await post(app, '/hijack', 'h')).body, 'raw')
  await waitUntil(
    async () => events.filter((event) => event.type === 'released').length === 4,
    'the second hijacked claim to be released'
  )
  t.equal(calls, 4)
  t.same(
    events
      .filter((event) => event.type === 'released')
      .map((event) => event.type === 'released' && event.reason),
    ['unstorable', 'unstorable', 'unstorable', 'unstorable']
  )
})

t.test(
  'a stream that fails while it is buffered releases the key; the error reaches the error handler',
  async (t) => {
    let calls = 0
    const { app, events } = await buildApp(t, {}, (app) => {
      app.post('/broken', async (_request, reply) => {
        calls++
        const stream = new Readable({ read() {} })
        stream.push('partial')
        setImmediate(() => stream.destroy(new Error('disk gone')))
        return reply.type('text/csv').send(stream)
      })
    })
    const failed = await post(app, '/broken', 'broken')
    t.equal(failed.statusCode, 500)
    t.match(
      events.filter((event) => event.type === 'released'),
      [{ reason: 'error' }]
    )
    t.equal((await post(app, '/broken', 'broken')).statusCode, 500, 'the retry ran again')
    t.equal(calls, 2)
  }
)
