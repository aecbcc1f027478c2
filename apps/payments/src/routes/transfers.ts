import { Type, type Static } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WalletNotFound } from '../errors.js'
import { createTransfer, visibleTransfer } from '../ledger/transfers.js'
import { WalletDirectory } from '../ledger/wallet-directory.js'
import { fenceOf, idempotencyOf, principalId } from './request-context.js'
import { supportedCurrency } from './supported-currency.js'
import {
  Amount,
  Currency,
  Id,
  IdempotencyKeyHeader,
  IdParams,
  Reference,
  Transfer,
  withProblems
} from './schemas.js'

const TransferRequest = Type.Object(
  {
    fromWalletId: Id,
    toWalletId: Id,
    amount: Amount,
    currency: Currency,
    reference: Type.Optional(Reference)
  },
  { additionalProperties: false }
)

type TransferBody = Static<typeof TransferRequest>

export const transferRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { supportedCurrencies } = app.config
  const directory = new WalletDirectory(app.database)

  app.post(
    '/v1/transfers',
    {
      config: {
        access: 'user',
        movement: 'transfer',
        idempotency: true,
        // Only the debited wallet: a credit cannot overdraw, so the credited wallet is serialized
        // by its row lock alone and many payers into one merchant never queue here.
        walletLock: (request) => (request.body as TransferBody).fromWalletId,
        rateLimit: { max: app.config.rateLimitTransfersMax, timeWindow: '1 minute' }
      },
      schema: {
        tags: ['transfers'],
        summary: 'Move money from one of your wallets to another wallet',
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeader,
        body: TransferRequest,
        response: withProblems({ 201: Transfer }, 400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
      },
      // Before the wallet lock (taken in the last preHandler): only the owner of the debited
      // wallet may queue on its lock, and ids are compared in one spelling.
      preHandler: async (request) => {
        const body = request.body
        body.fromWalletId = body.fromWalletId.toLowerCase()
        body.toWalletId = body.toWalletId.toLowerCase()
        const debited = await directory.facts(body.fromWalletId)
        if (debited?.ownerId !== principalId(request)) throw new WalletNotFound(body.fromWalletId)
      }
    },
    async (request, reply) => {
      const currency = supportedCurrency(request.body.currency, supportedCurrencies)
      const { key, fingerprint } = idempotencyOf(request)
      const transfer = await createTransfer(app.database, {
        userId: principalId(request),
        fromWalletId: request.body.fromWalletId,
        toWalletId: request.body.toWalletId,
        amount: request.body.amount,
        currency,
        reference: request.body.reference ?? null,
        idempotencyKey: key,
        fingerprint,
        fence: fenceOf(request, request.body.fromWalletId)
      })
      return reply.code(201).header('location', `/v1/transfers/${transfer.id}`).send(transfer)
    }
  )

  app.get(
    '/v1/transfers/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['transfers'],
        summary: 'A transfer touching one of your wallets',
        security: [{ bearer: [] }],
        params: IdParams,
        response: withProblems({ 200: Transfer }, 401, 403, 404)
      }
    },
    async (request) =>
      app.database.bounded(visibleTransfer(app.database.db, principalId(request), request.params.id))
  )
}
