/**
 * Every code on the cause chain of an error. Drizzle wraps driver errors in a DrizzleQueryError
 * whose `cause` holds the original, and a plugin's own error (say DEPENDENCY_UNAVAILABLE from the
 * catalog cache) may wrap a database error: the whole chain is read, not its first code.
 */
function codesOf(error: unknown): string[] {
  const codes: string[] = []
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') codes.push(code)
  }
  return codes
}

const UNIQUE_VIOLATION = '23505'

export function isUniqueViolation(error: unknown): boolean {
  return codesOf(error).includes(UNIQUE_VIOLATION)
}

// Connection-level failures: Postgres is down, restarting, overloaded or too slow.
const UNAVAILABLE = new Set([
  'DATABASE_DEADLINE',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '57014'
])

export function isDatabaseUnavailable(error: unknown): boolean {
  return codesOf(error).some((code) => UNAVAILABLE.has(code))
}
