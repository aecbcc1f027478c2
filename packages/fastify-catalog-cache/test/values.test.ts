import t from 'tap'
import { decodeEntry } from '../src/entry.js'
import { freshness, lastResort } from '../src/freshness.js'
import { deepFreeze, findNonJson } from '../src/plain-json.js'

t.test('findNonJson accepts plain JSON and names the first thing JSON cannot hold', async (t) => {
  t.equal(findNonJson({ a: [1, 'x', true, null, { b: -0.5 }], c: Object.create(null) }), undefined)
  class Product {}
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const shared = { id: 1 }
  t.equal(findNonJson({ a: shared, b: shared }), undefined, 'a repeated (non-circular) object is fine')
  const cases: Array<[unknown, RegExp]> = [
    [{ at: new Date(0) }, /\$\.at is a Date instance/],
    [{ n: 10n }, /\$\.n is a bigint/],
    [{ m: new Map() }, /\$\.m is a Map instance/],
    [{ s: new Set() }, /\$\.s is a Set instance/],
    [{ u: undefined }, /\$\.u is a undefined/],
    [[1, undefined], /\$\[1\] is a undefined/],
    // eslint-disable-next-line no-sparse-arrays
    [[1, , 3], /\$\[1\] is a hole/],
    [{ x: NaN }, /\$\.x is NaN/],
    [{ x: Infinity }, /\$\.x is Infinity/],
    [{ f: () => 1 }, /\$\.f is a function/],
    [{ p: new Product() }, /\$\.p is a Product instance/],
    [{ o: Object.create(Object.create(null)) }, /\$\.o is a class instance/],
    [{ [Symbol('k')]: 1 }, /\$ has symbol keys/],
    [circular, /\$\.self is a circular reference/],
    [Symbol('s'), /\$ is a symbol/]
  ]
  for (const [value, problem] of cases) t.match(findNonJson(value), problem)
})

t.test('deepFreeze freezes nested values once', async (t) => {
  const value = deepFreeze({ a: [{ b: 1 }] })
  t.ok(Object.isFrozen(value.a[0]))
  t.equal(deepFreeze(value), value)
  t.equal(deepFreeze(3), 3)
})

t.test('decodeEntry refuses a payload without its metadata line', async (t) => {
  t.throws(() => decodeEntry('{}'), /no metadata line/)
})

t.test('freshness: what a copy may be used for, window by window', async (t) => {
  const times = { createdAt: 0, freshUntil: 10, staleUntil: 20, errorUntil: 30 }
  t.same(
    [0, 9, 10, 19, 20, 29, 30].map((now) => freshness(times, now)),
    ['fresh', 'fresh', 'stale', 'stale', 'error', 'error', 'expired']
  )
})

t.test('lastResort: the most recently loaded copy still inside stale-if-error', async (t) => {
  const older = { createdAt: 1, freshUntil: 10, staleUntil: 10, errorUntil: 100 }
  const newer = { createdAt: 2, freshUntil: 11, staleUntil: 11, errorUntil: 50 }
  t.equal(lastResort(40, older, newer), newer)
  t.equal(lastResort(40, newer, older), newer)
  t.equal(lastResort(60, older, newer), older, 'the newer one is past its window')
  t.equal(lastResort(200, older, undefined), undefined)
  t.equal(lastResort(0), undefined)
})
