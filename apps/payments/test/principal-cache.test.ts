import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PrincipalCache, type Principal } from '../src/auth/principal-cache.js'

function countingCache(ttlMs: number, maxEntries = 10) {
  const lookups: string[] = []
  const cache = new PrincipalCache({
    lookup: async (hash) => {
      lookups.push(hash)
      await sleep(5)
      return hash.startsWith('user') ? { kind: 'user', id: hash } : null
    },
    ttlMs,
    maxEntries
  })
  return { cache, lookups }
}

t.test('concurrent first lookups of one key share one query, later ones none', async (t) => {
  const { cache, lookups } = countingCache(60_000)
  const answers = await Promise.all(Array.from({ length: 5 }, () => cache.resolve('user-1')))
  t.same(
    answers,
    Array.from({ length: 5 }, (): Principal => ({ kind: 'user', id: 'user-1' }))
  )
  t.same(cache.cached('user-1'), { kind: 'user', id: 'user-1' })
  t.same(lookups, ['user-1'])
})

t.test('an unknown key is remembered as no one, so repeating it costs no query', async (t) => {
  const { cache, lookups } = countingCache(60_000)
  t.equal(cache.cached('wrong'), undefined, 'not known before the first lookup')
  t.equal(await cache.resolve('wrong'), null)
  t.equal(cache.cached('wrong'), null, 'known to be no one afterwards')
  t.same(lookups, ['wrong'])
})

t.test('answers expire after the ttl, and the oldest goes when the cache is full', async (t) => {
  const { cache, lookups } = countingCache(30, 2)
  await cache.resolve('user-a')
  await sleep(50)
  t.equal(cache.cached('user-a'), undefined, 'expired')
  await cache.resolve('user-b')
  await cache.resolve('user-c')
  await cache.resolve('user-d')
  t.equal(cache.cached('user-b'), undefined, 'evicted: the bound holds')
  t.same(cache.cached('user-d'), { kind: 'user', id: 'user-d' })
  t.same(lookups, ['user-a', 'user-b', 'user-c', 'user-d'])
})
