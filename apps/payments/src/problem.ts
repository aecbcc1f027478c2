import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { isDatabaseUnavailable } from './db/pg-error.js'
import { REQUEST_ID_HEADER } from './request-id.js'

/** An RFC 9457 problem document with the contract's machine-readable `code`. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  instance?: string
  /** A failed purchase's id and failure code. */
  purchaseId?: string
  failureCode?: string
  /** The request's id, as in its log lines and X-Request-Id: what a client quotes to the operator. */
  requestId?: string
  errors?: Array<{ path: string; message: string }>
}

const CODE_PATTERN = /^[A-Z][A-Z0-9_]*$/

// Fastify's own errors, renamed to the contract's codes.
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_BAD_URL: 'VALIDATION_ERROR',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_ERROR',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_ERROR',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR'
}

const ROUTER_DETAILS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The URL is not valid: a path segment has a malformed percent-encoding.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is longer than 2048 characters.'
}

// nginx's name for it: the client went away before the answer (wallet-lock's CLIENT_CLOSED_REQUEST).
const TITLES: Record<number, string> = { 499: 'Client Closed Request' }

export function problemFor(error: FastifyError, request: FastifyRequest): Problem {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  const title = TITLES[status] ?? STATUS_CODES[status] ?? 'Error'
  if (error.validation !== undefined) {
    return {
      type: 'about:blank',
      title,
      status: 400,
      detail: 'The request does not match the schema of this route.',
      code: 'VALIDATION_ERROR',
      instance: request.url,
      errors: error.validation.map((issue) => ({
        path: `${error.validationContext}${issue.instancePath}`,
        message: String(issue.message) /* Ajv always writes one */
      }))
    }
  }
  if (isDatabaseUnavailable(error)) {
    return {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is unavailable; retry shortly.',
      code: 'DEPENDENCY_UNAVAILABLE',
      instance: request.url
    }
  }
  const mapped = error.code === undefined ? undefined : FASTIFY_CODES[error.code]
  if (status >= 500 && !isOwnError(error)) {
    // Never leak internals (stack traces, SQL, other users' data) to clients.
    return {
      type: 'about:blank',
      title,
      status,
      detail: 'An unexpected error occurred. It has been logged.',
      code: 'INTERNAL_ERROR',
      instance: request.url
    }
  }
  const code =
    mapped ??
    (error.code !== undefined && CODE_PATTERN.test(error.code)
      ? error.code
      : title.toUpperCase().replace(/[^A-Z0-9]+/g, '_'))
  // The router's messages repeat the whole URL, which may be kilobytes long.
  const detail = (error.code === undefined ? undefined : ROUTER_DETAILS[error.code]) ?? error.message
  return {
    type: 'about:blank',
    title,
    status,
    detail,
    code,
    instance: request.url.slice(0, 200),
    ...problemMembersOf(error)
  }
}

/** RFC 9457 extension members an error of ours carries for the client (a failed purchase's id). */
function problemMembersOf(error: FastifyError): Record<string, unknown> {
  return (error as { problemMembers?: Record<string, unknown> }).problemMembers ?? {}
}

/** Errors this service or its plugins raise on purpose (@fastify/error, a contract code). */
function isOwnError(error: FastifyError): boolean {
  return (
    error.name === 'FastifyError' &&
    error.code !== undefined &&
    CODE_PATTERN.test(error.code) &&
    !error.code.startsWith('FST_')
  )
}

declare module 'fastify' {
  interface FastifyReply {
    /** The `code` of the problem document this reply carries, for logs and metrics. */
    problemCode: string | null
  }
}

/** Sends a problem document naming its request (the router's refusals skip the hook that sets X-Request-Id). */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  reply.problemCode = problem.code
  const requestId = reply.request.id
  return reply
    .code(problem.status)
    .header(REQUEST_ID_HEADER, requestId)
    .type('application/problem+json')
    .send({ ...problem, requestId })
}

/** Fastify's `frameworkErrors`: the router's own refusals (malformed or over-long URLs), as problem documents. */
export function sendFrameworkProblem(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply
): void {
  sendProblem(reply, problemFor(error, request))
}

/** Renders every error, and unknown routes, as application/problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.decorateReply('problemCode', null)
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemFor(error, request)
    // Both answers mean "the same request may succeed shortly".
    if ((problem.status === 503 || problem.code === 'CONCURRENT_REQUEST') && !reply.hasHeader('retry-after'))
      reply.header('retry-after', '1')
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.debug({ err: error }, 'request rejected')
    return sendProblem(reply, problem)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
      code: 'NOT_FOUND',
      instance: request.url
    })
  )
}
