import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createDeposit } from '../ledger/deposits.js'
import { fencesOf, idempotencyOf, principalId } from './request-context.js'
import { Amount, Deposit, Id, IdempotencyKeyHeader, Reference, withProblems } from './schemas.js'

const DepositRequest = Type.Object({ walletId: Id, amount: Amount, reference: Type.Optional(Reference) }, { additionalProperties: false })

export const depositRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/v1/deposits', {
    config: {
      access: 'admin',
      idempotency: true,
      // The funding account is a single hot row per currency: its row lock orders deposits,
      // and a Redis lock on it would serialize every deposit of the currency for nothing.
      walletLock: (request) => [(request.body as { walletId: string }).walletId]
    },
    schema: {
      tags: ['deposits'],
      summary: 'Fund a wallet from the system account (operator only)',
      security: [{ bearer: [] }],
      headers: IdempotencyKeyHeader,
      body: DepositRequest,
      response: withProblems({ 201: Deposit }, 400, 401, 403, 404, 409, 413, 415, 422, 503)
    }
  }, async (request, reply) => {
    const { key, fingerprint } = idempotencyOf(request)
    const deposit = await createDeposit(app.database.db, {
      walletId: request.body.walletId,
      amount: request.body.amount,
      reference: request.body.reference ?? null,
      principal: principalId(request),
      idempotencyKey: key,
      fingerprint,
      fences: fencesOf(request)
    })
    return reply.code(201).send(deposit)
  })
}
