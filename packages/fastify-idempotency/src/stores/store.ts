/**
 * The storage seam. A store keeps one record per storage key: either an in-flight
 * claim (owner token + fingerprint, expiring after the lease) or a completed response
 * (fingerprint + opaque response bytes, expiring after the retention TTL).
 *
 * Every method must be atomic on its key (Redis: one Lua script; Postgres: one
 * statement or a row lock), and must treat an expired record as absent. Keys are
 * fixed-length hashes; a store shared with other data puts its own prefix in front.
 * The plugin puts its own timeout around every call, so a store may simply await.
 */
export interface IdempotencyStore {
  /**
   * Claims `key` for `claim.token` with a lease of `claim.leaseMs`, or reports what
   * holds it: a live in-flight claim (with its fingerprint) or a completed record
   * (with its fingerprint and stored response bytes).
   */
  claim(key: string, claim: Claim): Promise<ClaimResult>
  /** Extends the lease to `leaseMs` from now if `token` still owns the in-flight claim. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>
  /**
   * Compare-and-set: if `token` still owns the in-flight claim, replaces it with the
   * completed record `response`, kept for `ttlMs`. A stale owner gets `false`.
   * `response` is bytes: a Buffer, or a string standing for its UTF-8 encoding (most
   * responses are text; keeping them strings spares a copy). `claim` returns them as a Buffer.
   */
  commit(key: string, token: string, response: Buffer | string, ttlMs: number): Promise<boolean>
  /** Deletes the in-flight claim if `token` still owns it; never deletes a completed record. */
  release(key: string, token: string): Promise<boolean>
  /** Called at `onClose` for stores the plugin created itself. */
  close?(): Promise<void>
}

/** What a custom store must implement. */
export const STORE_METHODS = ['claim', 'renew', 'commit', 'release'] as const

export interface Claim {
  /** Random, unguessable owner token of this attempt (the plugin uses a UUID; no line breaks). */
  token: string
  /** Fingerprint of the request, kept with the record so a reused key is detected. */
  fingerprint: string
  leaseMs: number
}

export type ClaimResult =
  | { state: 'claimed' }
  | { state: 'in-flight'; fingerprint: string }
  | { state: 'completed'; fingerprint: string; response: Buffer }
