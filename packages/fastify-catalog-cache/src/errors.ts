import createError from '@fastify/error'

/** No usable copy (fresh, stale-while-revalidate or stale-if-error) and the loader failed or timed out. */
export const DependencyUnavailableError = createError<'DEPENDENCY_UNAVAILABLE', 503, [string, string, { cause: unknown }]>(
  'DEPENDENCY_UNAVAILABLE',
  "Catalog '%s' is unavailable: no usable cached copy and the loader failed (%s)",
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

/** `invalidate()` / `refresh()` could not reach the shared store, so other instances were not told. */
export const CatalogStoreUnavailableError = createError<'DEPENDENCY_UNAVAILABLE', 503, [string, { cause: unknown }]>(
  'DEPENDENCY_UNAVAILABLE',
  'Catalog cache store is unavailable; the change was applied to this instance only (%s)',
  503
)
