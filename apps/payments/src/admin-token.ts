/**
 * What ADMIN_TOKEN must look like. The operator token can create users and deposit money, so
 * a placeholder copied from an example or a guessable string must stop the start-up. The rule
 * is a cheap screen for such strings, not an entropy meter; `openssl rand -hex 32` passes it.
 */
export const ADMIN_TOKEN_MIN_LENGTH = 32
/** Far below what a random token of the minimum length has (about 14 in hex, 25 in base64). */
export const ADMIN_TOKEN_MIN_DISTINCT = 8
/** A run this long of one character, or of consecutive ones (aaaaaaaa, 12345678, hgfedcba). */
export const ADMIN_TOKEN_MAX_RUN = 8
/** Words of placeholders and made-up secrets, matched in any case anywhere in the token. */
export const PLACEHOLDER_WORDS = [
  'change',
  'secret',
  'passw',
  'admin',
  'token',
  'example',
  'sample',
  'placeholder',
  'default',
  'replace',
  'dummy',
  'qwerty'
]

/** Why `token` cannot be the admin token, or undefined when it can. */
export function adminTokenProblem(token: string): string | undefined {
  const reasons: string[] = []
  if (token.length < ADMIN_TOKEN_MIN_LENGTH) reasons.push(`is ${token.length} characters long`)
  const distinct = new Set(token).size
  if (distinct < ADMIN_TOKEN_MIN_DISTINCT) reasons.push(`has only ${distinct} different characters`)
  const word = PLACEHOLDER_WORDS.find((w) => token.toLowerCase().includes(w))
  if (word !== undefined) reasons.push(`contains "${word}"`)
  if (longestRun(token) >= ADMIN_TOKEN_MAX_RUN)
    reasons.push(`has a run of ${ADMIN_TOKEN_MAX_RUN} or more repeated or consecutive characters`)
  if (reasons.length === 0) return undefined
  return `ADMIN_TOKEN must be a random secret of at least ${ADMIN_TOKEN_MIN_LENGTH} characters (e.g. \`openssl rand -hex 32\`); this one ${reasons.join(', ')}`
}

/** The longest stretch in which each character is the previous one plus the same -1, 0 or +1. */
function longestRun(token: string): number {
  let longest = 1
  let length = 1
  let step = NaN
  for (let i = 1; i < token.length; i++) {
    const delta = token.charCodeAt(i) - token.charCodeAt(i - 1)
    length = Math.abs(delta) > 1 ? 1 : delta === step ? length + 1 : 2
    step = delta
    longest = Math.max(longest, length)
  }
  return longest
}
