import t from 'tap'
import { MemoryCatalogStore } from '../src/index.js'
import { behaviourSuite } from './suite.js'

// Instances in one process sharing one memory store behave like instances sharing Redis
behaviourSuite(t, async () => {
  const store = new MemoryCatalogStore()
  return () => ({ store })
})
