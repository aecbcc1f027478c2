import { startRedisCluster, type ThrowawayRedisCluster } from '@moolah/test-utils'
import t from 'tap'
import { storeContract } from './support/store-contract.js'

let cluster: ThrowawayRedisCluster | undefined
let prefixes = 0

// One throwaway cluster for the file (it takes seconds to start); each test a prefix of its own
storeContract(t, async () => {
  cluster ??= await startRedisCluster(t, { masters: 3 })
  const running = cluster
  const prefix = `contract${prefixes++}:`
  return () => ({ redis: running.createClient(), prefix })
})
