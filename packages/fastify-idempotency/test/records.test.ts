import { randomBytes } from 'node:crypto'
import t from 'tap'
import { MemoryIdempotencyStore } from '../src/index.js'
import { decodeResponse, encodeResponse } from '../src/stored-response.js'

const response = {
  statusCode: 201,
  headers: { 'content-type': 'application/json', 'x-list': ['a', 'b'] },
  body: Buffer.from('{"id":"é"}')
}

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
  t.not(
    encrypted.toString('hex'),
    encodeResponse(response, key, 'record-1').toString('hex'),
    'a fresh IV every time'
  )
  t.same(decodeResponse(encrypted, key, 'record-1'), response)
  t.throws(
    () => decodeResponse(encrypted, key, 'record-2'),
    'a record copied under another key does not authenticate'
  )
  t.throws(
    () => decodeResponse(encrypted, randomBytes(32), 'record-1'),
    'the wrong key does not authenticate'
  )
  t.throws(() => decodeResponse(encrypted, undefined, 'record-1'), /encrypted but no encryptionKey/)
  t.same(
    decodeResponse(encodeResponse(response, undefined, 'record-1'), key, 'record-1'),
    response,
    'plain records written before encryption was enabled still replay'
  )
})

t.test('refuses bytes it does not understand', async (t) => {
  t.throws(() => decodeResponse(Buffer.from('garbage'), undefined, 'k'), /unknown format/)
  t.throws(() => decodeResponse(Buffer.of(1, 0), undefined, 'k'), /unknown format/)
  t.throws(() => decodeResponse(Buffer.from('t201'), undefined, 'k'), /truncated/)
  t.throws(() => decodeResponse(Buffer.from('t201\n{}'), undefined, 'k'), /truncated/)
})

t.test('a string body is encoded as one string: the text layout, UTF-8 end to end', async (t) => {
  const record = encodeResponse(
    { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'héllo\nworld' },
    undefined,
    'k'
  )
  t.equal(record, 't200\n{"content-type":"text/plain"}\nhéllo\nworld')
  t.same(decodeResponse(Buffer.from(record), undefined, 'k'), {
    statusCode: 200,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from('héllo\nworld')
  })
  const key = randomBytes(32)
  const encrypted = encodeResponse({ statusCode: 200, headers: {}, body: 'secret' }, key, 'k')
  t.ok(Buffer.isBuffer(encrypted) && !encrypted.includes('secret'), 'encrypted records are bytes')
  t.same(decodeResponse(encrypted as Buffer, key, 'k'), {
    statusCode: 200,
    headers: {},
    body: Buffer.from('secret')
  })
})

t.test('records in the binary layout of earlier versions still replay', async (t) => {
  const headers = Buffer.from(JSON.stringify({ 'content-type': 'application/json' }))
  const record = Buffer.alloc(7 + headers.length)
  record.writeUInt8(1, 0)
  record.writeUInt16BE(201, 1)
  record.writeUInt32BE(headers.length, 3)
  headers.copy(record, 7)
  t.same(decodeResponse(Buffer.concat([record, Buffer.from('{"id":1}')]), undefined, 'k'), {
    statusCode: 201,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"id":1}')
  })
})

const claim = (token: string, leaseMs = 1000) => ({ token, fingerprint: 'fp', leaseMs })

t.test('MemoryIdempotencyStore is bounded: the least recently used record goes first', async (t) => {
  const store = new MemoryIdempotencyStore({ maxEntries: 2 })
  await store.claim('a', claim('ta'))
  await store.claim('b', claim('tb'))
  await store.claim('a', claim('other')) // a hit: "a" becomes the most recently used
  await store.claim('c', claim('tc'))
  t.equal(store.size, 2)
  t.equal((await store.claim('a', claim('x'))).state, 'in-flight', 'a survived')
  t.same(await store.claim('b', claim('tb2')), { state: 'claimed' }, 'b was evicted')
  await store.close()
  t.equal(store.size, 0, 'close() empties it')
})
