import { isIP } from 'node:net'

/**
 * Which peers may say who the client is (X-Forwarded-For, -Proto, -Host), in the forms of
 * Fastify's `trustProxy` that an environment variable can carry: every peer (`true`), none
 * (`false`), or the proxies' addresses and CIDR ranges. Not a hop count: Fastify ignores one,
 * since it cannot tell a proxy from a client that sends the header itself.
 */
export type TrustProxy = boolean | string[]

/** proxy-addr's names for the private ranges (loopback, link-local, unique local). */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** Parses TRUST_PROXY (`true`, `false` or a comma-separated list); throws on anything else. */
export function parseTrustProxy(value: string): TrustProxy {
  const trimmed = value.trim().toLowerCase()
  if (trimmed === 'true') return true
  if (trimmed === 'false') return false
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (entries.length === 0 || !entries.every(isAddressOrRange)) {
    throw new Error(
      `must be true, false, or a comma-separated list of the proxies' IP addresses, CIDR ranges or ${NAMED_RANGES.join('/')} (not a hop count), got "${value}"`
    )
  }
  return entries
}

function isAddressOrRange(entry: string): boolean {
  if (NAMED_RANGES.includes(entry)) return true
  const [address = '', prefix, ...rest] = entry.split('/')
  const version = isIP(address)
  if (version === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)
}
