import { redisPrefix } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import t from 'tap'
import { storeContract } from './support/store-contract.js'

// Each instance has a client of its own on the shared server; each test a prefix of its own
storeContract(t, async (t) => {
  const { prefix, url } = redisPrefix(t)
  return () => {
    const redis = new Redis(url)
    t.teardown(() => redis.disconnect())
    return { redis, prefix }
  }
})
