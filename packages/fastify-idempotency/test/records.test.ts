import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { MemoryStore } from '../src/index.js'
import { decodeResponse, encodeResponse } from '../src/stored-response.js'
import { StoreTimeouts } from '../src/store-timeouts.js'

const response = { statusCode: 201, headers: { 'content-type': 'application/json', 'x-list': ['a', 'b'] }, body: Buffer.from('{"id":"é"}') }

t.test('round-trips status, headers and exact bytes', async (t) => {
  t.same(decodeResponse(encodeResponse(response, undefined, 'k'), undefined, 'k'), response)
  const empty = { statusCode: 204, headers: {}, body: Buffer.alloc(0) }
  t.same(decodeResponse(encodeResponse(empty, undefined, 'k'), undefined, 'k'), empty)
})

t.test('encrypts with AES-256-GCM bound to the storage key', async (t) => {
  const key = randomBytes(32)
  const encrypted = encodeResponse(response, key, 'record-1')
  t.notOk(encrypted.includes(response.body), 'the body is not readable at rest')
  t.notOk(encrypted.includes(Buffer.from('content-type')), 'nor are the headers')
  t.not(encrypted.toString('hex'), encodeResponse(response, key, 'record-1').toString('hex'), 'a fresh IV every time')
  t.same(decodeResponse(encrypted, key, 'record-1'), response)
  t.throws(() => decodeResponse(encrypted, key, 'record-2'), 'a record copied under another key does not authenticate')
  t.throws(() => decodeResponse(encrypted, randomBytes(32), 'record-1'), 'the wrong key does not authenticate')
  t.throws(() => decodeResponse(encrypted, undefined, 'record-1'), /encrypted but no encryptionKey/)
  t.same(decodeResponse(encodeResponse(response, undefined, 'record-1'), key, 'record-1'), response, 'plain records written before encryption was enabled still replay')
})

t.test('refuses bytes it does not understand', async (t) => {
  t.throws(() => decodeResponse(Buffer.from('garbage'), undefined, 'k'), /unknown format/)
  t.throws(() => decodeResponse(Buffer.of(1, 0), undefined, 'k'), /unknown format/)
  t.throws(() => decodeResponse(Buffer.from('t201'), undefined, 'k'), /truncated/)
  t.throws(() => decodeResponse(Buffer.from('t201\n{}'), undefined, 'k'), /truncated/)
})

t.test('a string body is encoded as one string: the text layout, UTF-8 end to end', async (t) => {
  const record = encodeResponse({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'héllo\nworld' }, undefined, 'k')
  t.equal(record, 't200\n{"content-type":"text/plain"}\nhéllo\nworld')
  t.same(decodeResponse(Buffer.from(record), undefined, 'k'), { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('héllo\nworld') })
  const key = randomBytes(32)
  const encrypted = encodeResponse({ statusCode: 200, headers: {}, body: 'secret' }, key, 'k')
  t.ok(Buffer.isBuffer(encrypted) && !encrypted.includes('secret'), 'encrypted records are bytes')
  t.same(decodeResponse(encrypted as Buffer, key, 'k'), { statusCode: 200, headers: {}, body: Buffer.from('secret') })
})

t.test('records in the binary layout of earlier versions still replay', async (t) => {
  const headers = Buffer.from(JSON.stringify({ 'content-type': 'application/json' }))
  const record = Buffer.alloc(7 + headers.length)
  record.writeUInt8(1, 0)
  record.writeUInt16BE(201, 1)
  record.writeUInt32BE(headers.length, 3)
  headers.copy(record, 7)
  t.same(decodeResponse(Buffer.concat([record, Buffer.from('{"id":1}')]), undefined, 'k'), { statusCode: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"id":1}') })
})

const claim = (token: string, leaseMs = 1000) => ({ token, fingerprint: 'fp', leaseMs })

t.test('is bounded: the least recently used record goes first', async (t) => {
  const store = new MemoryStore({ maxEntries: 2 })
  await store.claim('a', claim('ta'))
  await store.claim('b', claim('tb'))
  await store.claim('a', claim('other')) // a hit: "a" becomes the most recently used
  await store.claim('c', claim('tc'))
  t.equal(store.size, 2)
  t.equal((await store.claim('a', claim('x'))).state, 'in-flight', 'a survived')
  t.same(await store.claim('b', claim('tb2')), { state: 'claimed' }, 'b was evicted')
})

t.test('leases and retention expire', async (t) => {
  const store = new MemoryStore()
  await store.claim('lease', claim('t1', 30))
  t.same(await store.claim('lease', claim('t2', 30)), { state: 'in-flight', fingerprint: 'fp' })
  await sleep(40)
  t.same(await store.claim('lease', claim('t2', 1000)), { state: 'claimed' })
  t.equal(await store.commit('lease', 't2', Buffer.from('done'), 30), true)
  t.same(await store.claim('lease', claim('t3')), { state: 'completed', fingerprint: 'fp', response: Buffer.from('done') })
  await sleep(40)
  t.same(await store.claim('lease', claim('t3')), { state: 'claimed' })
})

t.test('only the owner renews, commits or releases, and only while in flight', async (t) => {
  const store = new MemoryStore()
  await store.claim('k', claim('owner'))
  t.equal(await store.renew('k', 'intruder', 1000), false)
  t.equal(await store.commit('k', 'intruder', Buffer.from('x'), 1000), false)
  t.equal(await store.release('k', 'intruder'), false)
  t.equal(await store.renew('k', 'owner', 1000), true)
  t.equal(await store.commit('k', 'owner', Buffer.from('x'), 1000), true)
  t.equal(await store.release('k', 'owner'), false, 'a completed record is never released')
  t.equal(await store.commit('k', 'owner', Buffer.from('y'), 1000), false, 'nor committed twice')
  t.equal(await store.renew('missing', 'owner', 1000), false)
  await store.close()
  t.equal(store.size, 0)
})

t.test('StoreTimeouts: one timer expires every overdue call in order', async (t) => {
  const timeouts = new StoreTimeouts(60)
  const never = new Promise<never>(() => {})
  const keepAlive = setTimeout(() => {}, 5000) // the timeout timer is unref'd; in an app the server keeps the process alive
  t.teardown(() => clearTimeout(keepAlive))
  t.equal(await timeouts.run(Promise.resolve('fast'), 'claim'), 'fast')
  await t.rejects(timeouts.run(Promise.reject(new Error('store down')), 'claim'), /store down/)
  const started = Date.now()
  const first = timeouts.run(never, 'claim')
  const quick = timeouts.run(sleep(10).then(() => 'quick'), 'renew')
  await sleep(30)
  const second = timeouts.run(never, 'commit') // due 30 ms after the first: the timer is armed again for it
  await t.rejects(first, { name: 'StoreTimeoutError', message: 'idempotency store claim timed out after 60 ms' })
  t.equal(await quick, 'quick', 'a call that settled in time is left alone')
  await t.rejects(second, /commit timed out/)
  t.ok(Date.now() - started >= 85, 'the second deadline was kept')
  t.equal(await timeouts.run(Promise.resolve('again'), 'release'), 'again', 'works after the queue drained')
})
