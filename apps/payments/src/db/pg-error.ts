/**
 * The SQLSTATE or driver code behind an error. Drizzle wraps driver errors in a
 * DrizzleQueryError whose `cause` holds the original, so walk the cause chain.
 */
export function pgErrorCode(error: unknown): string | undefined {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
  }
  return undefined
}

export const UNIQUE_VIOLATION = '23505'

// Connection-level failures: Postgres is down, restarting, overloaded or too slow.
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03', '53300', '57014'
])

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = pgErrorCode(error)
  return code !== undefined && UNAVAILABLE.has(code)
}
