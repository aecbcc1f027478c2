import { startRedisCluster } from '@moolah/test-utils'
import t from 'tap'
import { lockSuite } from './helpers/lock-suite.js'
import { redisStore } from './helpers/redis-clients.js'

// one cluster for the file: starting one takes seconds
const cluster = await startRedisCluster(t, { masters: 3 })
let run = 0

lockSuite(t, async (t) => {
  const prefix = `suite-${run++}:`
  return { store: () => redisStore(t, cluster.createClient(), { prefix }) }
})
