import createError from '@fastify/error'

/*
 * DEPENDENCY_UNAVAILABLE (503) is the kit's DependencyUnavailableError, shared by every plugin;
 * its message here is fixed (STORE_UNAVAILABLE) and the store's own error is only the `cause`,
 * since the error is sent to clients. The 409 and 503 errors carry `retryAfter` (whole seconds).
 */

/** `DependencyUnavailableError`'s message when the store failed or timed out and failMode is 'closed'. */
export const STORE_UNAVAILABLE = 'The wallet lock store is unavailable; retry shortly'

/** Thrown when a resource stays busy past `waitMs` (HTTP 409). */
export const ConcurrentRequestError = createError<'CONCURRENT_REQUEST', 409, [string]>(
  'CONCURRENT_REQUEST',
  '%s is busy with another request; retry later',
  409
)

/** The `signal.reason` of a lock whose lease was lost: another holder may now own the resource. Same code as ConcurrentRequestError. */
export const LockLostError = createError<'CONCURRENT_REQUEST', 409, [string]>(
  'CONCURRENT_REQUEST',
  'The lock on %s was lost before the work finished',
  409
)

/**
 * A route's client closed the connection while the request waited for its locks. 499 is nginx's
 * "client closed request": a 4xx, so Fastify logs it at info, not as a server error; nobody reads
 * the reply anyway.
 */
export const ClientClosedRequestError = createError<'CLIENT_CLOSED_REQUEST', 499, []>(
  'CLIENT_CLOSED_REQUEST',
  'The client closed the connection while the request waited for its wallet locks',
  499
)
