import createError from '@fastify/error'
import { DependencyUnavailableError, withRetryAfter, type Retryable } from '@moolah/plugin-kit'

/*
 * DEPENDENCY_UNAVAILABLE (503) is the kit's DependencyUnavailableError, shared by every plugin,
 * with the fixed message below: the store's or the decoder's error is only the `cause` (and in
 * the log), since the error is sent to clients.
 */
const STORE_UNAVAILABLE = 'The idempotency store is unavailable; retry later'

/** `Retry-After` of a 409 and a 503: the client may try again in a second. */
const RETRY_AFTER_MS = 1000
export const RETRY_AFTER_SECONDS = RETRY_AFTER_MS / 1000

export const IdempotencyKeyMissingError = createError(
  'IDEMPOTENCY_KEY_MISSING',
  'This route requires an Idempotency-Key header',
  400
)
export const IdempotencyKeyInvalidError = createError<'IDEMPOTENCY_KEY_INVALID', 400, [string]>(
  'IDEMPOTENCY_KEY_INVALID',
  'Invalid Idempotency-Key header: %s',
  400
)
export const IdempotencyKeyReusedError = createError(
  'IDEMPOTENCY_KEY_REUSED',
  'This Idempotency-Key was already used for a different request',
  422
)
export const IdempotencyKeyInUseError = createError(
  'IDEMPOTENCY_KEY_IN_USE',
  'A request with this Idempotency-Key is still being processed; retry later',
  409
)

/** The 409 of a key in flight, with `retryAfter` (the hook copies it into the header). */
export function keyInUse(): Retryable<Error> {
  return withRetryAfter(new IdempotencyKeyInUseError(), RETRY_AFTER_MS)
}

/** The 503 of a store that failed, timed out or returned a record that cannot be read. */
export function storeUnavailable(cause: unknown): Retryable<Error> {
  return withRetryAfter(new DependencyUnavailableError(STORE_UNAVAILABLE, { cause }), RETRY_AFTER_MS)
}
