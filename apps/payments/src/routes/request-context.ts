import type { FastifyRequest } from 'fastify'

/** The authenticated principal's id; routes with `access` other than public always have one. */
export function principalId(request: FastifyRequest): string {
  /* c8 ignore next 2 -- the authenticate hook refuses the request before a handler could see this */
  if (request.principal === null)
    throw new Error('route without access control reached an authenticated handler')
  return request.principal.id
}

/**
 * The Idempotency-Key and request fingerprint, written into the money rows so the database
 * enforces exactly-once even when the Redis record is gone.
 */
export function idempotencyOf(request: FastifyRequest): { key: string; fingerprint: string } {
  /* c8 ignore next -- idempotent routes require the key; the plugin answers 400 without one */
  if (request.idempotency === null) throw new Error('idempotent route reached without an Idempotency-Key')
  return { key: request.idempotency.key, fingerprint: request.idempotency.fingerprint }
}

/** The fencing token of the wallet lock this request holds on `walletId`. */
export function fenceOf(request: FastifyRequest, walletId: string): number | undefined {
  /* c8 ignore next -- money routes always name a wallet to lock; the lock plugin throws if it cannot */
  if (request.walletLock === null) throw new Error('money route reached without its wallet lock')
  return request.walletLock.fences[walletId]
}
