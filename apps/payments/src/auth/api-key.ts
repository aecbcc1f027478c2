import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 32 random bytes: guessing is hopeless, so a fast hash is a safe way to store it. */
export function generateApiKey(): string {
  return `mk_${randomBytes(32).toString('base64url')}`
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
