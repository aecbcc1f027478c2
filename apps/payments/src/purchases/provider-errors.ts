import createError from '@fastify/error'

// What a provider adapter rejects with. The purchase flow reads any rejection of `fulfil` as
// "outcome unknown" (the purchase stays pending and the settler asks `status` later); the
// codes are for the log. 502: should one ever reach a client, the fault is upstream.

/** `fulfil` got no certain answer: timeout, connection dropped or refused, non-2xx, malformed answer. */
export const ProviderOutcomeUnknown = createError(
  'PROVIDER_OUTCOME_UNKNOWN',
  "The provider's outcome for purchase %s is unknown: %s",
  502
)

/** `status` got no usable answer; ask again later. */
export const ProviderStatusUnavailable = createError(
  'PROVIDER_STATUS_UNAVAILABLE',
  'The provider could not be asked about purchase %s: %s',
  502
)
