import type { FastifyBaseLogger } from 'fastify'

/** What every event says about the request it concerns. */
export interface IdempotencyEventBase {
  /** The client's Idempotency-Key. */
  key: string
  scope: string
  method: string
  /** The route pattern. */
  route: string
  requestId: string
}

export type IdempotencyEvent = IdempotencyEventBase & (
  | { type: 'claimed' }
  | { type: 'replayed', statusCode: number }
  /** In flight elsewhere: answered 409 (or still in flight when `wait` gave up). */
  | { type: 'conflict', retryAfterSeconds: number }
  /** Same key, different fingerprint: answered 422. */
  | { type: 'mismatch' }
  | { type: 'committed', statusCode: number, bytes: number }
  /**
   * The claim was given up so the key can be retried: a status `shouldStore` refuses, a thrown
   * error, a body over `maxBodyBytes`, or a body that cannot be stored (web stream, hijacked reply).
   */
  | { type: 'released', reason: 'status' | 'error' | 'too-large' | 'unstorable', statusCode: number }
  /** This request no longer owns its claim (its lease expired): a renewal, the commit or the release was refused. */
  | { type: 'lease-lost', operation: 'renew' | 'commit' | 'release' }
  | { type: 'store-error', operation: 'claim' | 'renew' | 'commit' | 'release' | 'decode', error: Error }
)

export type IdempotencyEventListener = (event: IdempotencyEvent) => void

/**
 * Calls the listener, never letting its exceptions reach the request. Undefined without a
 * listener, so call sites write `emit?.({ … })` and build no event object for nobody.
 */
export function eventEmitter(listener: IdempotencyEventListener | undefined, log: FastifyBaseLogger): IdempotencyEventListener | undefined {
  if (listener === undefined) return undefined
  return (event) => {
    try {
      listener(event)
    } catch (err) {
      log.error({ err, event: event.type }, '@moolah/fastify-idempotency: onEvent listener threw')
    }
  }
}
