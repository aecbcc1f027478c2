export const MAX_KEY_LENGTH = 255

export type ParsedKey =
  { status: 'valid'; key: string } | { status: 'missing' } | { status: 'invalid'; reason: string }

// Bare form: visible ASCII (no spaces, so a comma-joined duplicate header is never valid).
const BARE = /^[\x21-\x7e]+$/
// RFC 8941 sf-string: printable ASCII inside quotes, with only \" and \\ escapes.
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/

/**
 * Parses one `Idempotency-Key` header value (draft-ietf-httpapi-idempotency-key-header):
 * the structured-field string form `"abc"` or the bare form `abc`, 1–255 printable
 * ASCII characters after unquoting.
 */
export function parseIdempotencyKey(value: string | string[] | undefined): ParsedKey {
  if (value === undefined) return { status: 'missing' }
  if (Array.isArray(value)) return { status: 'invalid', reason: 'the header must be sent once' }
  const text = value.trim()
  if (text.startsWith('"')) {
    const match = SF_STRING.exec(text)
    if (match === null) return { status: 'invalid', reason: 'not a valid structured-field string' }
    return checkLength((match[1] as string).replace(/\\(["\\])/g, '$1'))
  }
  if (!BARE.test(text))
    return { status: 'invalid', reason: 'only printable ASCII without spaces is allowed in the bare form' }
  return checkLength(text)
}

function checkLength(key: string): ParsedKey {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH)
    return { status: 'invalid', reason: `the key must be 1–${MAX_KEY_LENGTH} characters` }
  return { status: 'valid', key }
}

/**
 * Reads the first of `headerNames` the request carries (lower-case names). Aliases that
 * disagree make the key invalid rather than silently preferring one.
 */
export function readIdempotencyKey(
  headers: Record<string, string | string[] | undefined>,
  headerNames: readonly string[]
): ParsedKey {
  let found: ParsedKey = { status: 'missing' }
  for (const name of headerNames) {
    const parsed = parseIdempotencyKey(headers[name])
    if (parsed.status === 'missing') continue
    if (parsed.status === 'invalid') return parsed
    if (found.status === 'valid' && found.key !== parsed.key)
      return { status: 'invalid', reason: `${headerNames.join(' and ')} disagree` }
    found = parsed
  }
  return found
}
