export { catalogCache, catalogCache as default, type CatalogRouteSelector } from './plugin.js'
export { CatalogCache } from './catalog-cache.js'
export type { CatalogResult, CatalogState, CatalogTier } from './result.js'
export type { CatalogDefinition, LoadContext } from './definition.js'
export type { CatalogCacheOptions } from './options.js'
export type { CatalogCacheEvent, StaleReason, StoreOperation } from './events.js'
export type { CatalogCacheStore } from './stores/store.js'
export { MemoryCatalogCacheStore } from './stores/memory.js'
export { RedisCatalogCacheStore, type RedisCatalogCacheStoreOptions } from './stores/redis.js'
export { CatalogInvalidValueError, CatalogLoadTimeoutError, CatalogNotDefinedError } from './errors.js'
export {
  DependencyUnavailableError,
  type FailMode,
  type Subscription,
  type SubscriptionListener
} from '@moolah/plugin-kit'
