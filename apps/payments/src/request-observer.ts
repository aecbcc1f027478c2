import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ServiceMetrics } from './metrics.js'
import { logMoneyMovement, type MoneyMovement } from './money-movement-log.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route moves money: each answer gets one structured log line and one metric. */
    movement?: 'transfer' | 'deposit' | 'purchase'
  }
}

/** created, pending (a purchase whose outcome is not known yet), replayed, or the problem code the money route answered with. */
function outcomeOf(reply: FastifyReply): string {
  if (reply.statusCode === 202) return 'pending'
  if (reply.statusCode < 300)
    return reply.getHeader('idempotent-replayed') === 'true' ? 'replayed' : 'created'
  /* c8 ignore next -- every error answer is a problem document (problem.ts), which sets problemCode */
  return reply.problemCode ?? String(reply.statusCode)
}

/** What a movement's log line says of its request: who, which wallets, how much; never a secret. */
function movementFields(
  request: FastifyRequest
): Pick<MoneyMovement, 'principal' | 'idempotencyKey' | 'amount'> & Record<string, unknown> {
  const body = (request.body ?? {}) as Record<string, unknown>
  return {
    principal: request.principal?.id,
    idempotencyKey: request.idempotency?.key,
    fromWalletId: body.fromWalletId,
    toWalletId: body.toWalletId ?? body.walletId,
    amount: body.amount,
    currency: body.currency
  }
}

/** Every answer: its latency in the HTTP histogram; a money route's answer: its movement line and metric. */
export function observeRequests(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const { url, config } = request.routeOptions
    metrics.request(request.method, url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    if (config.movement === undefined) return
    const outcome = outcomeOf(reply)
    metrics.movement(config.movement, outcome)
    logMoneyMovement(request.log, {
      movement: config.movement,
      outcome,
      statusCode: reply.statusCode,
      location: reply.getHeader('location'),
      ...movementFields(request)
    })
  })
}
