import t from 'tap'
import { MemoryIdempotencyStore } from '../src/index.js'
import { storeContract } from './support/store-contract.js'

// Instances in one process sharing one memory store behave like instances sharing Redis
storeContract(t, async () => {
  const store = new MemoryIdempotencyStore()
  return () => ({ store })
})
