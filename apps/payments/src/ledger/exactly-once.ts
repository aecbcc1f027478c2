import { IdempotencyKeyReusedError } from '@moolah/fastify-idempotency'
import { isUniqueViolation } from '../db/pg-error.js'

/**
 * The database half of idempotency: rows that move money or create resources carry the
 * request's (principal, Idempotency-Key) under a UNIQUE constraint, so even with the Redis
 * record gone a retry finds the first result instead of executing twice. A retry with the
 * same fingerprint gets that row back; a different request with the same key is refused with
 * the plugin's own 422, so the cache and the database answer a reused key alike.
 */
export function sameRequest(storedFingerprint: string | null, fingerprint: string): void {
  if (storedFingerprint !== fingerprint) throw new IdempotencyKeyReusedError()
}

/**
 * Creates the row; when the unique key says it exists (a retry past the cache, or a concurrent
 * twin that committed first), answers with that row instead. No read before the insert: the
 * violation is what tells the rare retry from a first request.
 */
export async function exactlyOnce<T extends { requestFingerprint: string | null }>(
  fingerprint: string,
  create: () => Promise<T>,
  findExisting: () => Promise<T | undefined>
): Promise<T> {
  try {
    return await create()
  } catch (error) {
    if (!isUniqueViolation(error)) throw error
    const winner = await findExisting()
    /* c8 ignore next -- the violated constraint may be another unique index only if the schema changes */
    if (winner === undefined) throw error
    sameRequest(winner.requestFingerprint, fingerprint)
    return winner
  }
}
