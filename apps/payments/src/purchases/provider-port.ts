/**
 * The port between the purchase flow and a product provider (Flash, EasyPay, or the sandbox
 * that stands in for both). The purchase id is the provider-side idempotency key: however often
 * `fulfil` is called for one id, the provider fulfils it at most once and answers the same outcome.
 */
export type ProviderName = 'flash' | 'easypay'

export interface FulfilmentRequest {
  /** The purchase id, also the provider's idempotency key. */
  purchaseId: string
  provider: ProviderName
  productId: string
  /** Minor units of `currency`. */
  amount: number
  currency: string
  /** E.164 mobile number, 11-digit meter number, or null (vouchers). */
  recipient: string | null
}

/** At least one field is set when a product is fulfilled. */
export interface Fulfilment {
  pin?: string
  serial?: string
  token?: string
  units?: string
}

/** What the provider knows for certain about one purchase id. */
export type ProviderOutcome =
  | { status: 'fulfilled'; fulfilment: Fulfilment }
  /** Declined or failed for certain: the provider did not and will not fulfil this id. */
  | { status: 'failed'; failureCode: string }

export type ProviderStatus =
  | ProviderOutcome
  /** The provider holds the request and has not finished it: ask again later. */
  | { status: 'processing' }
  /** The provider never received this id: it was not and will not be fulfilled. */
  | { status: 'not-found' }

export interface ProviderPort {
  /**
   * Asks for one fulfilment. Resolves with a certain outcome; rejects (with any error) when
   * the outcome is unknown: timeout, connection dropped, provider unreachable. The caller
   * then leaves the purchase pending and settles it with `status`. `signal` aborts the call.
   */
  fulfil(request: FulfilmentRequest, signal: AbortSignal): Promise<ProviderOutcome>
  /** What the provider knows about an id; rejects when it cannot be asked right now. */
  status(purchaseId: string, signal: AbortSignal): Promise<ProviderStatus>
  /** Releases sockets or timers; called once from the app's onClose. */
  close(): Promise<void>
}
