import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const API_KEY_SHAPE = /^mk_[A-Za-z0-9_-]{43}$/

/** 32 random bytes: guessing is hopeless, so a fast hash is a safe way to store it. */
export function generateApiKey(): string {
  return `mk_${randomBytes(32).toString('base64url')}`
}

/** Whether a token could be a key this service issued: anything else is refused without a query. */
export function looksLikeApiKey(token: string): boolean {
  return API_KEY_SHAPE.test(token)
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex')
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
