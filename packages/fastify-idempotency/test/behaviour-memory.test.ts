import t from 'tap'
import { behaviourSuite } from './support/behaviour-suite.js'
import { memoryBackend } from './support/stores.js'

behaviourSuite(t, await memoryBackend(t))
