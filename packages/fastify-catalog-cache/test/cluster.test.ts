import { startRedisCluster, type ThrowawayRedisCluster } from '@moolah/test-utils'
import t from 'tap'
import { behaviourSuite } from './suite.js'

let cluster: ThrowawayRedisCluster | undefined
let files = 0

behaviourSuite(t, async () => {
  cluster ??= await startRedisCluster(t, { masters: 3 })
  const prefix = `suite${files++}:`
  const running = cluster
  return () => ({ redis: running.createClient({ redisOptions: { maxRetriesPerRequest: 1 } }), prefix })
})
