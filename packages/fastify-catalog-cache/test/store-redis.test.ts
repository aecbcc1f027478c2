import { redisPrefix } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t from 'tap'
import { storeContract } from './support/store-contract.js'

storeContract(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return () => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 })
    t.teardown(() => redis.disconnect())
    return { redis, prefix }
  }
})
