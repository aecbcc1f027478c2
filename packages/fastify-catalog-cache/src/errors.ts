import createError from '@fastify/error'

/**
 * No usable copy (fresh, stale-while-revalidate or stale-if-error) and the loader failed or timed out
 * (or `refresh()`'s load failed). The message is fixed: the loader's error (SQL, hosts, paths) is
 * only the `cause` and in the log, since this error is sent to clients.
 */
export const DependencyUnavailableError = createError<'DEPENDENCY_UNAVAILABLE', 503, [string, { cause: unknown }]>(
  'DEPENDENCY_UNAVAILABLE',
  "Catalog '%s' is temporarily unavailable; retry shortly",
  503
)

/** `get`, `refresh`, `invalidate` or a route asked for a name that was never `define`d. A programming error. */
export const CatalogNotDefinedError = createError<'CATALOG_NOT_DEFINED', 500, [string]>(
  'CATALOG_NOT_DEFINED',
  "Catalog '%s' is not defined; call fastify.catalogCache.define() first",
  500
)

/** The loader returned something plain JSON cannot hold faithfully (Date, BigInt, Map, NaN, …). Raised at load time. */
export const CatalogInvalidValueError = createError<'CATALOG_INVALID_VALUE', 500, [string, string]>(
  'CATALOG_INVALID_VALUE',
  "Catalog '%s' loader returned a value that is not plain JSON: %s",
  500
)

/** The loader did not settle within `loadTimeoutMs`. */
export const CatalogLoadTimeoutError = createError<'CATALOG_LOAD_TIMEOUT', 504, [string, number]>(
  'CATALOG_LOAD_TIMEOUT',
  "Catalog '%s' loader did not finish within %d ms",
  504
)

/** `invalidate()` / `refresh()` could not reach the shared store, so other instances were not told. The store's error is the `cause`. */
export const CatalogStoreUnavailableError = createError<'DEPENDENCY_UNAVAILABLE', 503, [{ cause: unknown }]>(
  'DEPENDENCY_UNAVAILABLE',
  'Catalog cache store is unavailable; the change was applied to this instance only',
  503
)
