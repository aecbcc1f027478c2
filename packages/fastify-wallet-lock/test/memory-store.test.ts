import t from 'tap'
import { MemoryLockStore } from '../src/memory-store.js'
import { lockSuite } from './helpers/lock-suite.js'

lockSuite(t, async (t) => {
  const store = new MemoryLockStore()
  t.teardown(() => store.close())
  return { store: () => store }
})

t.test('close forgets every lock and leaves no lease timer running', async (t) => {
  const store = new MemoryLockStore()
  t.match(await store.acquire({ resource: 'a', token: 't1', ttlMs: 60_000, waitMs: 0 }), { acquired: true })
  await store.close()
  t.match(await store.acquire({ resource: 'a', token: 't2', ttlMs: 1000, waitMs: 0 }), { acquired: true }, 'the old lock is gone')
  await store.close()
})
