import t from 'tap'
import { behaviourSuite } from './support/behaviour-suite.js'
import { redisBackend } from './support/stores.js'

behaviourSuite(t, await redisBackend(t))
