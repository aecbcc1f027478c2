import { sha256 } from './sha256.js'

export interface StorageKeyParts {
  scope: string
  method: string
  /** The route pattern (`routeOptions.url`), not the concrete URL. */
  route: string
  key: string
}

/**
 * One fixed-length Redis key per (scope, method, route, key): hashing keeps arbitrary
 * client keys out of the key space and gives every record a single key (Cluster-safe).
 */
export function storageKey(prefix: string, parts: StorageKeyParts): string {
  return prefix + sha256(JSON.stringify([parts.scope, parts.method, parts.route, parts.key]))
}
