import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createDeposit } from '../ledger/deposits.js'
import { SerialLane } from '../ledger/serial-lane.js'
import { idempotencyOf, principalId } from './request-context.js'
import { Amount, Deposit, Id, IdempotencyKeyHeader, Reference, withProblems } from './schemas.js'

const DepositRequest = Type.Object(
  { walletId: Id, amount: Amount, reference: Type.Optional(Reference) },
  { additionalProperties: false }
)

export const depositRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const lane = new SerialLane()
  const { bounded } = app.database
  app.post(
    '/v1/deposits',
    {
      config: {
        access: 'admin',
        movement: 'deposit',
        // No wallet lock: a deposit credits the user's wallet, which cannot be overdrawn by it, and
        // debits the funding account, which has no lower bound; the row locks order them.
        idempotency: true
      },
      schema: {
        tags: ['deposits'],
        summary: 'Fund a wallet from the system account (operator only)',
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeader,
        body: DepositRequest,
        response: withProblems({ 201: Deposit }, 400, 401, 403, 404, 409, 413, 415, 422, 503)
      }
    },
    async (request, reply) => {
      const { key, fingerprint } = idempotencyOf(request)
      // Given up when its request was (DATABASE_DEADLINE): a deposit never runs after its 503.
      const abandoned = new AbortController()
      const deposit = await bounded(
        lane.run(
          () =>
            createDeposit(app.database, {
              walletId: request.body.walletId.toLowerCase(),
              amount: request.body.amount,
              reference: request.body.reference ?? null,
              principal: principalId(request),
              idempotencyKey: key,
              fingerprint
            }),
          abandoned.signal
        )
      ).finally(() => abandoned.abort())
      return reply.code(201).send(deposit)
    }
  )
}
