import type { FastifyBaseLogger } from 'fastify'

/** One money movement's answer, as its log line states it: who moved how much where, and how it ended. */
export interface MoneyMovement {
  /** transfer, deposit, purchase… */
  movement: string
  /** created, replayed, or the problem code of the answer. */
  outcome: string
  statusCode: number
  principal: string | undefined
  idempotencyKey: string | undefined
  amount: unknown
  [field: string]: unknown
}

/**
 * The one structured line per money movement (msg "money movement"), on the request's logger
 * so it carries the request id. Callers pass ids and amounts, never credentials.
 */
export function logMoneyMovement(log: FastifyBaseLogger, movement: MoneyMovement): void {
  log.info(movement, 'money movement')
}
