export { catalogCache, catalogCache as default } from './plugin.js'
export { CatalogCache } from './catalog-cache.js'
export type { CatalogResult, CatalogState, CatalogTier } from './result.js'
export type { CatalogDefinition, LoadContext } from './definition.js'
export type { CatalogCacheOptions } from './options.js'
export type { CatalogCacheEvent, StaleReason, StoreOperation } from './events.js'
export type { CatalogRouteSelector } from './http.js'
export type { CatalogStore, StoreSubscriber } from './store.js'
export { MemoryCatalogStore } from './memory-store.js'
export { RedisCatalogStore, type RedisCatalogStoreOptions } from './redis-store.js'
export {
  CatalogInvalidValueError,
  CatalogLoadTimeoutError,
  CatalogNotDefinedError,
  CatalogStoreUnavailableError,
  DependencyUnavailableError
} from './errors.js'
