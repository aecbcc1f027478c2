export {
  DependencyUnavailableError,
  retryAfterOf,
  setRetryAfter,
  withRetryAfter,
  type Retryable
} from './errors.js'
export { safeEmitter } from './events.js'
export { FAIL_MODES, OptionReader, type FailMode } from './options.js'
export {
  RedisSubscriber,
  type RedisSubscriberOptions,
  type Subscription,
  type SubscriptionListener
} from './redis-subscriber.js'
export { selectStore, type RedisClient, type StoreKind, type StoreOptions } from './store-selection.js'
export { TimeoutError, Timeouts } from './timeouts.js'
