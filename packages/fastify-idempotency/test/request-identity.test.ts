import Fastify from 'fastify'
import t from 'tap'
import {
  canonicalJson,
  defaultFingerprint,
  MAX_KEY_LENGTH,
  parseIdempotencyKey,
  readIdempotencyKey,
  storageKey
} from '../src/index.js'

t.test('accepts the structured-field string and the bare form', async (t) => {
  t.same(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"'), {
    status: 'valid',
    key: '8e03978e-40d5-43e8-bc93-6894a57f9324'
  })
  t.same(parseIdempotencyKey('abc'), { status: 'valid', key: 'abc' })
  t.same(
    parseIdempotencyKey(' abc '),
    { status: 'valid', key: 'abc' },
    'optional whitespace around the value is not part of the key'
  )
  t.same(parseIdempotencyKey('"a b"'), { status: 'valid', key: 'a b' }, 'spaces are allowed inside quotes')
  t.same(
    parseIdempotencyKey('"say \\"hi\\" \\\\o/"'),
    { status: 'valid', key: 'say "hi" \\o/' },
    'escapes are unescaped'
  )
  t.same(parseIdempotencyKey('"abc"'), parseIdempotencyKey('abc'), 'both forms name the same key')
})

t.test('enforces 1–255 printable ASCII characters', async (t) => {
  t.same(parseIdempotencyKey('x'.repeat(MAX_KEY_LENGTH)), { status: 'valid', key: 'x'.repeat(255) })
  for (const value of ['x'.repeat(256), `"${'x'.repeat(256)}"`, '""', '']) {
    t.equal(parseIdempotencyKey(value).status, 'invalid', `${value.slice(0, 10)}… (${value.length})`)
  }
  for (const value of [
    'a b',
    'é',
    'tab\there',
    '"unterminated',
    '"bad \\n escape"',
    '"inner " quote"',
    '"é"',
    'a, b'
  ]) {
    t.equal(parseIdempotencyKey(value).status, 'invalid', value)
  }
  t.same(parseIdempotencyKey(['a', 'b']), { status: 'invalid', reason: 'the header must be sent once' })
  t.same(parseIdempotencyKey(undefined), { status: 'missing' })
})

t.test('reads the first header present and refuses aliases that disagree', async (t) => {
  const names = ['idempotency-key', 'x-idempotency-key']
  t.same(readIdempotencyKey({}, names), { status: 'missing' })
  t.same(readIdempotencyKey({ 'x-idempotency-key': 'k' }, names), { status: 'valid', key: 'k' })
  t.same(readIdempotencyKey({ 'idempotency-key': '"k"', 'x-idempotency-key': 'k' }, names), {
    status: 'valid',
    key: 'k'
  })
  t.match(readIdempotencyKey({ 'idempotency-key': 'k', 'x-idempotency-key': 'j' }, names), {
    status: 'invalid',
    reason: /disagree/
  })
  t.equal(
    readIdempotencyKey({ 'idempotency-key': 'k', 'x-idempotency-key': 'no good' }, names).status,
    'invalid'
  )
})

t.test('canonical JSON sorts keys at every depth and keeps array order', async (t) => {
  t.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }),
    '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}'
  )
  t.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }))
  t.not(canonicalJson([1, 2]), canonicalJson([2, 1]))
  t.equal(
    canonicalJson({ skipped: undefined, kept: 'x' }),
    '{"kept":"x"}',
    'undefined members are dropped, as JSON does'
  )
  t.equal(
    canonicalJson(JSON.parse('{"__proto__":{"x":1}}')),
    '{"__proto__":{"x":1}}',
    'a __proto__ member stays data'
  )
  t.equal(canonicalJson(undefined), '')
  t.equal(canonicalJson([undefined, () => 1]), '[null,null]', 'as JSON does in arrays')
  t.equal(canonicalJson({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}', 'toJSON is honoured')
  const samples = [
    { a: [1, 'x', true, null, { c: 1.5, b: -0 }], 'é"q': { '': 0 } },
    [],
    {},
    'plain',
    42,
    null
  ]
  for (const sample of samples)
    t.same(
      JSON.parse(canonicalJson(sample)),
      JSON.parse(JSON.stringify(sample)),
      'same data as JSON.stringify'
    )
  t.equal(canonicalJson('text'), '"text"')
})

t.test('canonical JSON is the same text whether the keys arrive sorted or not', async (t) => {
  const sorted = { a: [1, { b: true, c: 'x' }], d: { e: null } }
  t.equal(canonicalJson(sorted), JSON.stringify(sorted), 'already in order: what JSON.stringify writes')
  t.equal(canonicalJson({ d: { e: null }, a: [1, { c: 'x', b: true }] }), JSON.stringify(sorted))
  t.equal(
    canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 })),
    '{"a":2,"b":1}',
    'null-prototype objects too'
  )
  t.equal(
    canonicalJson({ 10: 'ten', 9: 'nine' }),
    '{"10":"ten","9":"nine"}',
    'integer-like keys sort as strings'
  )
  t.equal(
    canonicalJson({ z: { a: 1 }, y: { b: [{ q: 1, p: 2 }] } }),
    '{"y":{"b":[{"p":2,"q":1}]},"z":{"a":1}}',
    'names of one object are skipped where another lacks them'
  )
  t.equal(
    canonicalJson({ toString: 'x', nested: { constructor: 1 }, other: {} }),
    '{"nested":{"constructor":1},"other":{},"toString":"x"}',
    'names of Object.prototype members are data, never read from the prototype'
  )
  t.equal(
    canonicalJson(JSON.parse('{"b":{},"__proto__":{"x":1}}')),
    '{"__proto__":{"x":1},"b":{}}',
    'a __proto__ member takes the careful path'
  )
  t.equal(
    canonicalJson({ b: 1, a: [new Date(0)] }),
    '{"a":["1970-01-01T00:00:00.000Z"],"b":1}',
    'so does a Date'
  )
  t.equal(
    canonicalJson([undefined, new Date(0), () => 1]),
    '[null,"1970-01-01T00:00:00.000Z",null]',
    'undefined and functions in arrays are null there too'
  )
  for (const sample of [
    { b: [{ d: 1, c: [null, { f: 'é', e: -0 }] }], a: true },
    [{ b: 1, a: 2 }, 'x', [{ d: {}, c: [] }]]
  ]) {
    t.same(JSON.parse(canonicalJson(sample)), sample, 'the same data')
    t.equal(canonicalJson(sample), canonicalJson(JSON.parse(canonicalJson(sample))), 'and a fixed point')
  }
  const sparse: unknown[] = []
  sparse[1] = 'x'
  t.equal(canonicalJson(sparse), '[null,"x"]', 'holes are null, as JSON.stringify writes them')
})

t.test(
  'the default fingerprint covers method, path and query string as received, and canonical body',
  async (t) => {
    const app = Fastify()
    t.teardown(() => app.close())
    const prints: string[] = []
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body)
    )
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body))
    app.post('/a/:id', async (request) => {
      prints.push(defaultFingerprint(request))
      return 'ok'
    })
    app.put('/a/:id', async (request) => {
      prints.push(defaultFingerprint(request))
      return 'ok'
    })
    const fingerprint = async (
      method: 'POST' | 'PUT',
      url: string,
      payload?: string | Buffer | Record<string, unknown>,
      contentType?: string
    ): Promise<string> => {
      await app.inject({
        method,
        url,
        ...(payload === undefined ? {} : { payload }),
        ...(contentType === undefined ? {} : { headers: { 'content-type': contentType } })
      })
      return prints.at(-1) as string
    }
    const base = await fingerprint('POST', '/a/1', { x: 1, y: 2 })
    t.match(base, /^[A-Za-z0-9_-]{43}$/)
    t.equal(await fingerprint('POST', '/a/1', { y: 2, x: 1 }), base, 'same path and canonical body')
    const different = {
      method: await fingerprint('PUT', '/a/1', { x: 1, y: 2 }),
      body: await fingerprint('POST', '/a/1', { x: 2, y: 2 }),
      'path parameter': await fingerprint('POST', '/a/2', { x: 1, y: 2 }),
      'query string': await fingerprint('POST', '/a/1?currency=ZAR', { x: 1, y: 2 }),
      'query string order': await fingerprint('POST', '/a/1?b=2&a=1', { x: 1, y: 2 }),
      'no body': await fingerprint('POST', '/a/1')
    }
    t.equal(
      new Set([base, ...Object.values(different)]).size,
      7,
      `each differs: ${Object.keys(different).join(', ')}`
    )
    t.not(
      await fingerprint('POST', '/a/1?a=1&b=2', { x: 1, y: 2 }),
      different['query string order'],
      'the query string is taken exactly, not reordered'
    )
    t.equal(
      await fingerprint('POST', '/a/1', Buffer.from('raw'), 'application/octet-stream'),
      await fingerprint('POST', '/a/1', 'raw', 'text/plain'),
      'raw bytes and text hash the same way'
    )
  }
)

t.test('storage keys are one fixed-length key per scope, method, route and key', async (t) => {
  const base = { scope: 'alice', method: 'POST', route: '/v1/transfers', key: 'k' }
  const key = storageKey(base)
  t.match(key, /^[A-Za-z0-9_-]{43}$/)
  t.equal(storageKey({ ...base }), key)
  for (const change of [
    { scope: 'bob' },
    { method: 'PATCH' },
    { route: '/v1/deposits' },
    { key: 'j' },
    { scope: 'alice","POST' }
  ]) {
    t.not(storageKey({ ...base, ...change }), key, JSON.stringify(change))
  }
})
