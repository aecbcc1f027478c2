import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** What every candidate gets: a fresh app, a key prefix of its own and the shared route handler. */
export interface CandidateContext {
  app: FastifyInstance
  prefix: string
  redisUrl: string
  databaseUrl: string
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>
  /** Counts Redis commands sent by the candidate's ioredis client (one command = one round trip). */
  countCommands: (client: { sendCommand: (...args: never[]) => unknown }) => void
}

/** Registers the candidate's idempotency on `/transfers` and returns what must be closed afterwards. */
export type Candidate = (context: CandidateContext) => Promise<() => Promise<void>>
