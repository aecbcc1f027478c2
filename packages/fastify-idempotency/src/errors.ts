import createError, { type FastifyErrorConstructor } from '@fastify/error'
import type { FastifyError, FastifyReply } from 'fastify'

export const IdempotencyKeyMissingError = createError('IDEMPOTENCY_KEY_MISSING', 'This route requires an Idempotency-Key header', 400)
export const IdempotencyKeyInvalidError = createError('IDEMPOTENCY_KEY_INVALID', 'Invalid Idempotency-Key header: %s', 400)
export const IdempotencyKeyReusedError = createError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request', 422)
export const IdempotencyKeyInUseError = createError('IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry later', 409)
export const DependencyUnavailableError = createError('DEPENDENCY_UNAVAILABLE', 'The idempotency store is unavailable; retry later', 503)

/** An error that tells the client when to retry; `retryAfter` is in seconds. */
export interface RetryableError extends FastifyError {
  retryAfter: number
}

/**
 * Sets `Retry-After` on the reply and returns the error (with `retryAfter`) for throwing.
 * `cause` is kept for the application and logs only: the message stays fixed, so a store's
 * own error text never reaches the client.
 */
export function retryLater(reply: FastifyReply, ErrorClass: FastifyErrorConstructor, retryAfterSeconds: number, cause?: unknown): RetryableError {
  const error = (cause === undefined ? new ErrorClass() : new ErrorClass({ cause })) as RetryableError
  error.retryAfter = retryAfterSeconds
  reply.header('retry-after', String(retryAfterSeconds))
  return error
}
