import { LogController } from 'fastify'

/** Where pino writes its lines: stdout by default, or a stream of the caller's (a terminal's prettifier, a test's capture). */
export interface LogDestination {
  write(line: string): void
}

/**
 * Where a secret could show up in a log line: credentials in request headers (should a
 * serializer or a plugin log them), an API key or token in a logged object or error. The
 * service itself logs none of them; this keeps it so when someone adds a log line.
 */
const SECRET_PATHS = [
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'authorization',
  'apiKey',
  'adminToken',
  'token',
  '*.authorization',
  '*.apiKey',
  '*.adminToken',
  '*.token'
]

/** The service's pino options: its level, where lines go, and secrets redacted from every line. */
export function loggerOptions(level: string, stream?: LogDestination) {
  return { level, stream, redact: { paths: SECRET_PATHS, censor: '[redacted]' } }
}

/** Every line a request logs carries its id as `requestId`, the name its problem documents use. */
export const logController = new LogController({ requestIdLogLabel: 'requestId' })
