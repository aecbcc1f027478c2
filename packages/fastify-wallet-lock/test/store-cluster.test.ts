import { startRedisCluster } from '@moolah/test-utils'
import t from 'tap'
import { redisStore } from './support/manager.js'
import { storeContract } from './support/store-contract.js'

// one cluster for the file: starting one takes seconds
const cluster = await startRedisCluster(t, { masters: 3 })
let run = 0

storeContract(t, async (t) => {
  const prefix = `suite-${run++}:`
  return {
    store: () => {
      const redis = cluster.createClient()
      t.teardown(() => redis.disconnect())
      return redisStore(t, { redis, prefix })
    }
  }
})
