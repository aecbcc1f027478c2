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

export type IdempotencyEvent = IdempotencyEventBase &
  (
    | { type: 'claimed' }
    | { type: 'replayed'; statusCode: number }
    /** In flight elsewhere: answered 409 (or still in flight when `wait` gave up). */
    | { type: 'conflict'; retryAfterSeconds: number }
    /** Same key, different fingerprint: answered 422. */
    | { type: 'mismatch' }
    | { type: 'committed'; statusCode: number; bytes: number }
    /**
     * The claim was given up so the key can be retried: a status `shouldStore` refuses, a thrown
     * error, a body over `maxBodyBytes`, or a body that cannot be stored (web stream, hijacked reply).
     */
    | { type: 'released'; reason: 'status' | 'error' | 'too-large' | 'unstorable'; statusCode: number }
    /** This request no longer owns its claim (its lease expired): a renewal, the commit or the release was refused. */
    | { type: 'lease-lost'; operation: 'renew' | 'commit' | 'release' }
    /** A store call failed or timed out, or a stored record could not be decoded (also logged at warn). */
    | { type: 'store-error'; operation: StoreOperation; error: Error }
  )

export type IdempotencyEventListener = (event: IdempotencyEvent) => void

/** What failed: a store call, or decoding the record a claim returned. */
export type StoreOperation = 'claim' | 'renew' | 'commit' | 'release' | 'decode'
