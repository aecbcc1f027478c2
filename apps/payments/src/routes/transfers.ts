import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createTransfer, visibleTransfer } from '../ledger/transfers.js'
import { fencesOf, idempotencyOf, principalId } from './request-context.js'
import { supportedCurrency } from './supported-currency.js'
import { Amount, Currency, Id, IdempotencyKeyHeader, IdParams, Reference, Transfer, withProblems } from './schemas.js'

const TransferRequest = Type.Object({
  fromWalletId: Id,
  toWalletId: Id,
  amount: Amount,
  currency: Currency,
  reference: Type.Optional(Reference)
}, { additionalProperties: false })

export const transferRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { supportedCurrencies } = app.config

  app.post('/v1/transfers', {
    config: {
      access: 'user',
      idempotency: true,
      // Both sides, so two opposite transfers queue instead of racing; the plugin sorts them.
      walletLock: (request) => {
        const body = request.body as { fromWalletId: string, toWalletId: string }
        return [body.fromWalletId, body.toWalletId]
      },
      rateLimit: { max: app.config.rateLimitTransfersMax, timeWindow: '1 minute' }
    },
    schema: {
      tags: ['transfers'],
      summary: 'Move money from one of your wallets to another wallet',
      security: [{ bearer: [] }],
      headers: IdempotencyKeyHeader,
      body: TransferRequest,
      response: withProblems({ 201: Transfer }, 400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
    }
  }, async (request, reply) => {
    const currency = supportedCurrency(request.body.currency, supportedCurrencies)
    const { key, fingerprint } = idempotencyOf(request)
    const transfer = await createTransfer(app.database.db, {
      userId: principalId(request),
      fromWalletId: request.body.fromWalletId,
      toWalletId: request.body.toWalletId,
      amount: request.body.amount,
      currency,
      reference: request.body.reference ?? null,
      idempotencyKey: key,
      fingerprint,
      fences: fencesOf(request)
    })
    return reply.code(201).header('location', `/v1/transfers/${transfer.id}`).send(transfer)
  })

  app.get('/v1/transfers/:id', {
    config: { access: 'user' },
    schema: {
      tags: ['transfers'],
      summary: 'A transfer touching one of your wallets',
      security: [{ bearer: [] }],
      params: IdParams,
      response: withProblems({ 200: Transfer }, 401, 403, 404)
    }
  }, async (request) => visibleTransfer(app.database.db, principalId(request), request.params.id))
}
