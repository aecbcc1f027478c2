import { UnsupportedCurrency } from '../errors.js'

/** The currency itself when this deployment supports it (SUPPORTED_CURRENCIES), else 422. */
export function supportedCurrency(currency: string, supported: readonly string[]): string {
  if (!supported.includes(currency)) throw new UnsupportedCurrency(currency, supported.join(', '))
  return currency
}
