import createError from '@fastify/error'

/** Thrown when a resource stays busy past `waitMs` (HTTP 409); `retryAfter` is in seconds. */
export const ConcurrentRequestError = createError<[string]>(
  'CONCURRENT_REQUEST',
  '%s is busy with another request; retry later',
  409
)

/** Thrown when the lock store cannot be reached in time and `failMode` is 'closed' (HTTP 503). */
export const DependencyUnavailableError = createError<[string]>(
  'DEPENDENCY_UNAVAILABLE',
  'The lock store is unavailable: %s',
  503
)

/** The `signal.reason` of a lock whose lease was lost: another holder may now own the resource. */
export const LockLostError = createError<[string]>(
  'CONCURRENT_REQUEST',
  'The lock on %s was lost before the work finished',
  409
)

/**
 * A route's client closed the connection while the request waited for its locks. 499 is nginx's
 * "client closed request": a 4xx, so Fastify logs it at info, not as a server error; nobody reads
 * the reply anyway.
 */
export const ClientClosedRequestError = createError<[]>(
  'CLIENT_CLOSED_REQUEST',
  'The client closed the connection while the request waited for its wallet locks',
  499
)

/** An error that carries a Retry-After hint in seconds. */
export type RetryableError = Error & { retryAfter: number }

/**
 * The Retry-After hint (seconds) of a CONCURRENT_REQUEST or DEPENDENCY_UNAVAILABLE error, else
 * undefined. @fastify/error's instanceof compares codes, so LockLostError counts too.
 */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof ConcurrentRequestError || error instanceof DependencyUnavailableError ? (error as Partial<RetryableError>).retryAfter : undefined
}

/** Attaches a Retry-After hint (whole seconds, at least 1) to an error. */
export function withRetryAfter<E extends Error>(error: E, retryAfterMs: number): E & { retryAfter: number } {
  return Object.assign(error, { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) })
}
