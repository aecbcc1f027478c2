import { startRedisCluster, waitUntil, type ThrowawayRedisCluster } from '@moolah/test-utils'
import t from 'tap'
import type { CatalogCacheEvent } from '../src/index.js'
import { createApp } from './support/app.js'
import { storeContract } from './support/store-contract.js'

let cluster: ThrowawayRedisCluster | undefined
let prefixes = 0

storeContract(t, async () => {
  cluster ??= await startRedisCluster(t, { masters: 3 })
  const prefix = `suite${prefixes++}:`
  const running = cluster
  return () => ({ redis: running.createClient({ redisOptions: { maxRetriesPerRequest: 1 } }), prefix })
})

t.test('on a Cluster, the subscriber reconnecting flushes L1 too', async (t) => {
  cluster ??= await startRedisCluster(t, { masters: 3 })
  const redis = cluster.createClient({ redisOptions: { maxRetriesPerRequest: 1 } })
  const events: CatalogCacheEvent[] = []
  const app = await createApp(t, { redis, prefix: 'reconnect:', events })
  app.catalogCache.define('flash', { load: () => ({ ok: true }) })
  await app.catalogCache.get('flash')
  t.equal((await app.catalogCache.get('flash')).tier, 'l1')
  await Promise.all(redis.nodes('master').map((node) => node.call('CLIENT', 'KILL', 'TYPE', 'pubsub')))
  await waitUntil(
    () => events.some((event) => event.type === 'invalidation' && event.origin === 'resync'),
    'the resync after reconnect'
  )
  t.equal((await app.catalogCache.get('flash')).tier, 'l2', 'L1 was flushed; the copy came from the Cluster')
})
