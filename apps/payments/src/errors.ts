import createError from '@fastify/error'

// The contract's error codes that the service itself raises (the plugins raise their own).
export const Unauthorized = createError('UNAUTHORIZED', 'A valid bearer token is required', 401)
export const Forbidden = createError('FORBIDDEN', 'This route needs %s', 403)
export const WalletNotFound = createError('WALLET_NOT_FOUND', 'Wallet %s was not found', 404)
export const TransferNotFound = createError('TRANSFER_NOT_FOUND', 'Transfer %s was not found', 404)
export const NotFound = createError('NOT_FOUND', '%s', 404)
export const SameWallet = createError('SAME_WALLET', 'A transfer needs two different wallets', 422)
export const CurrencyMismatch = createError('CURRENCY_MISMATCH', 'The transfer currency %s must equal the currency of both wallets', 422)
export const InsufficientFunds = createError('INSUFFICIENT_FUNDS', 'The wallet balance is lower than the amount', 422)
export const UnsupportedCurrency = createError('UNSUPPORTED_CURRENCY', 'Currency %s is not supported (supported: %s)', 422)
export const AmountTooLarge = createError('AMOUNT_TOO_LARGE', 'The resulting balance would exceed 9007199254740991 minor units', 422)
export const DependencyUnavailable = createError('DEPENDENCY_UNAVAILABLE', '%s is unavailable; retry shortly', 503)
export const CatalogFeedUnavailable = createError('CATALOG_FEED_UNAVAILABLE', 'The %s feed is missing or invalid; the current version keeps being served (details are in the service log)', 502)
export const ValidationFailed = createError('VALIDATION_ERROR', '%s', 400)
