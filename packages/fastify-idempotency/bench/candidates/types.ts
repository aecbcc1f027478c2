import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What every candidate gets: a fresh app, a key prefix of its own and the shared route handler. */
export interface CandidateContext {
  app: FastifyInstance
  prefix: string
  redisUrl: string
  databaseUrl: string
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
  /** Counts one SQL statement (a round trip) for candidates that use Postgres instead of Redis. */
  countStatement: () => void
}

/** Registers the candidate's idempotency on `/transfers` and returns what must be closed afterwards. */
export type Candidate = (context: CandidateContext) => Promise<() => Promise<void>>
