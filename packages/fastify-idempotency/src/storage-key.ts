import { createHash } from 'node:crypto'

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
  const digest = createHash('sha256').update(JSON.stringify([parts.scope, parts.method, parts.route, parts.key])).digest('base64url')
  return prefix + digest
}
