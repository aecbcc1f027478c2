import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { isDatabaseUnavailable } from './db/pg-error.js'

/** An RFC 9457 problem document with the contract's machine-readable `code`. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  instance?: string
  errors?: Array<{ path: string, message: string }>
}

const CODE_PATTERN = /^[A-Z][A-Z0-9_]*$/

// Fastify's own errors, renamed to the contract's codes.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR'
}

export function problemFor(error: FastifyError, request: FastifyRequest): Problem {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  const title = STATUS_CODES[status] ?? 'Error'
  if (error.validation !== undefined) {
    return {
      type: 'about:blank',
      title,
      status: 400,
      detail: 'The request does not match the schema of this route.',
      code: 'VALIDATION_ERROR',
      instance: request.url,
      errors: error.validation.map((issue) => ({ path: `${error.validationContext}${issue.instancePath}`, message: String(issue.message) /* Ajv always writes one */ }))
    }
  }
  if (isDatabaseUnavailable(error)) {
    return { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database is unavailable; retry shortly.', code: 'DEPENDENCY_UNAVAILABLE', instance: request.url }
  }
  const mapped = error.code === undefined ? undefined : FASTIFY_CODES[error.code]
  if (status >= 500 && !isOwnError(error)) {
    // Never leak internals (stack traces, SQL, other users' data) to clients.
    return { type: 'about:blank', title, status, detail: 'An unexpected error occurred. It has been logged.', code: 'INTERNAL_ERROR', instance: request.url }
  }
  const code = mapped ?? (error.code !== undefined && CODE_PATTERN.test(error.code) ? error.code : title.toUpperCase().replace(/[^A-Z0-9]+/g, '_'))
  return { type: 'about:blank', title, status, detail: error.message, code, instance: request.url }
}

/** Errors this service or its plugins raise on purpose (@fastify/error, a contract code). */
function isOwnError(error: FastifyError): boolean {
  return error.name === 'FastifyError' && error.code !== undefined && CODE_PATTERN.test(error.code) && !error.code.startsWith('FST_')
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem)
}

/** Renders every error, and unknown routes, as application/problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemFor(error, request)
    if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.debug({ err: error }, 'request rejected')
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler((request, reply) => sendProblem(reply, {
    type: 'about:blank',
    title: 'Not Found',
    status: 404,
    detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
    code: 'NOT_FOUND',
    instance: request.url
  }))
}
