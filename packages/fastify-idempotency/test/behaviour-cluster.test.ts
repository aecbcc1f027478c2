import t from 'tap'
import { behaviourSuite } from './support/behaviour-suite.js'
import { clusterBackend } from './support/stores.js'

behaviourSuite(t, await clusterBackend(t))
