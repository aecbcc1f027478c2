import createError from '@fastify/error'

/*
 * DEPENDENCY_UNAVAILABLE (503) is the kit's DependencyUnavailableError, shared by every plugin.
 * Its messages here are fixed: the loader's or the store's error (SQL, hosts, paths) is only
 * the `cause` and in the log, since the error is sent to clients.
 */

/** No usable copy (fresh, stale-while-revalidate or stale-if-error) and the loader failed or timed out, or `refresh()`'s load failed. */
export function catalogUnavailable(name: string): string {
  return `Catalog '${name}' is temporarily unavailable; retry shortly`
}

/** `invalidate()` / `refresh()` could not reach the store, so other instances were not told. */
export const APPLIED_LOCALLY = 'the change was applied to this instance only'
/** `refresh()` with failMode 'closed' could not reach the store, so it did not load. */
export const NOT_APPLIED = 'nothing was changed'

export function storeUnavailable(consequence: string): string {
  return `Catalog cache store is unavailable; ${consequence}`
}

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
