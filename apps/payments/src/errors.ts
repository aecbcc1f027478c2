import createError from '@fastify/error'

// The contract's error codes that the service itself raises (the plugins raise their own).
export const Unauthorized = createError('UNAUTHORIZED', 'A valid bearer token is required', 401)
export const Forbidden = createError('FORBIDDEN', 'This route needs %s', 403)
export const WalletNotFound = createError('WALLET_NOT_FOUND', 'Wallet %s was not found', 404)
export const TransferNotFound = createError('TRANSFER_NOT_FOUND', 'Transfer %s was not found', 404)
export const NotFound = createError('NOT_FOUND', '%s', 404)
export const SameWallet = createError('SAME_WALLET', 'A transfer needs two different wallets', 422)
export const CurrencyMismatch = createError(
  'CURRENCY_MISMATCH',
  'The transfer currency %s must equal the currency of both wallets',
  422
)
export const InsufficientFunds = createError(
  'INSUFFICIENT_FUNDS',
  'The wallet balance is lower than the amount',
  422
)
export const UnsupportedCurrency = createError(
  'UNSUPPORTED_CURRENCY',
  'Currency %s is not supported (supported: %s)',
  422
)
export const AmountTooLarge = createError(
  'AMOUNT_TOO_LARGE',
  'The resulting balance would exceed 9007199254740991 minor units',
  422
)
export const DependencyUnavailable = createError(
  'DEPENDENCY_UNAVAILABLE',
  '%s is unavailable; retry shortly',
  503
)
export const CatalogFeedUnavailable = createError(
  'CATALOG_FEED_UNAVAILABLE',
  'The %s feed is missing or invalid; the current version keeps being served (details are in the service log)',
  502
)
export const PurchaseNotFound = createError('PURCHASE_NOT_FOUND', 'Purchase %s was not found', 404)
export const ProductNotFound = createError(
  'PRODUCT_NOT_FOUND',
  'The %s catalog being served (version %s) has no product %s',
  404
)
export const InvalidAmount = createError('INVALID_AMOUNT', '%s', 422)
export const InvalidRecipient = createError('INVALID_RECIPIENT', '%s', 422)
export const ProductCurrencyMismatch = createError(
  'CURRENCY_MISMATCH',
  'The product is sold in %s, the wallet holds %s',
  422
)
const PurchaseFailedError = createError(
  'PURCHASE_FAILED',
  'The provider did not fulfil the purchase (%s); its amount was refunded to the wallet',
  422
)

/** A recorded purchase that failed: the problem document names it (`purchaseId`) and why (`failureCode`). */
export class PurchaseFailed extends PurchaseFailedError {
  readonly problemMembers: { purchaseId: string; failureCode: string }
  constructor(purchaseId: string, failureCode: string) {
    super(failureCode)
    this.problemMembers = { purchaseId, failureCode }
  }
}
export const ValidationFailed = createError('VALIDATION_ERROR', '%s', 400)
