import createError from '@fastify/error'
import type { FastifyReply } from 'fastify'

/**
 * A dependency (the store, a loader) could not answer: 503. The message is a fixed text the
 * plugin chooses, because this error is sent to clients; the dependency's own error (SQL, host
 * names) is only the `cause`. One class for every plugin, and @fastify/error's `instanceof`
 * matches by code anyway.
 */
export const DependencyUnavailableError = createError<
  'DEPENDENCY_UNAVAILABLE',
  503,
  [string, { cause: unknown }?]
>('DEPENDENCY_UNAVAILABLE', '%s', 503)

/** An error that tells the client when to retry: `retryAfter` in whole seconds. */
export type Retryable<E extends Error = Error> = E & { retryAfter: number }

/** Sets `retryAfter` on `error`: `retryAfterMs` rounded up to whole seconds, at least 1. */
export function withRetryAfter<E extends Error>(error: E, retryAfterMs: number): Retryable<E> {
  return Object.assign(error, { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) })
}

/** The `retryAfter` of an error (seconds), or undefined. */
export function retryAfterOf(error: unknown): number | undefined {
  const retryAfter = (error as { retryAfter?: unknown } | null | undefined)?.retryAfter
  return typeof retryAfter === 'number' ? retryAfter : undefined
}

/** Copies the error's `retryAfter` into the reply's `Retry-After` header; returns the error, for `throw`. */
export function setRetryAfter<E>(reply: FastifyReply, error: E): E {
  const retryAfter = retryAfterOf(error)
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
  return error
}
