export { idempotency, idempotency as default, type IdempotencyContext } from './plugin.js'
export type {
  IdempotencyOptions,
  IdempotencyRouteOptions,
  ScopeFunction,
  FingerprintFunction,
  WaitOptions
} from './options.js'
export type {
  IdempotencyEvent,
  IdempotencyEventBase,
  IdempotencyEventListener,
  StoreOperation
} from './events.js'
export type { IdempotencyStore, Claim, ClaimResult } from './stores/store.js'
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './stores/memory.js'
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './stores/redis.js'
export { parseIdempotencyKey, readIdempotencyKey, MAX_KEY_LENGTH, type ParsedKey } from './idempotency-key.js'
export { canonicalJson, defaultFingerprint, storageKey, type StorageKeyParts } from './request-identity.js'
export {
  IdempotencyKeyInUseError,
  IdempotencyKeyInvalidError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReusedError
} from './errors.js'
export {
  DependencyUnavailableError,
  TimeoutError,
  type FailMode,
  type RedisClient,
  type Retryable
} from '@moolah/plugin-kit'
