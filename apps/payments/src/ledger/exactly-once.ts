import { pgErrorCode, UNIQUE_VIOLATION } from '../db/pg-error.js'
import { IdempotencyKeyReused } from '../errors.js'

export interface IdempotentRow {
  requestFingerprint: string | null
}

/**
 * The database half of idempotency: rows that move money or create resources carry the
 * request's (principal, Idempotency-Key) under a UNIQUE constraint, so even with the Redis
 * record gone a retry finds the first result instead of executing twice. A retry with the
 * same fingerprint gets that row back; a different request with the same key is refused.
 */
export async function exactlyOnce<T extends IdempotentRow>(
  fingerprint: string,
  findExisting: () => Promise<T | undefined>,
  create: () => Promise<T>
): Promise<T> {
  const existing = await findExisting()
  if (existing !== undefined) return sameRequest(existing, fingerprint)
  try {
    return await create()
  } catch (error) {
    // A concurrent twin committed first; its row is the answer.
    if (pgErrorCode(error) !== UNIQUE_VIOLATION) throw error
    const winner = await findExisting()
    /* c8 ignore next -- the violated constraint may be another unique index only if the schema changes */
    if (winner === undefined) throw error
    return sameRequest(winner, fingerprint)
  }
}

function sameRequest<T extends IdempotentRow>(row: T, fingerprint: string): T {
  if (row.requestFingerprint !== fingerprint) throw new IdempotencyKeyReused()
  return row
}
