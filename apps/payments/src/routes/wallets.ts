import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ValidationFailed } from '../errors.js'
import { decodeCursor, walletHistory } from '../ledger/history.js'
import { createWallet, listWallets, ownedWallet } from '../ledger/wallets.js'
import { idempotencyOf, principalId } from './request-context.js'
import { supportedCurrency } from './supported-currency.js'
import { Currency, Entry, IdempotencyKeyHeader, IdParams, Wallet, withProblems } from './schemas.js'

export const walletRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { supportedCurrencies } = app.config
  const { db, bounded } = app.database

  app.post(
    '/v1/wallets',
    {
      config: { access: 'user', idempotency: true },
      schema: {
        tags: ['wallets'],
        summary: 'Open a wallet',
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeader,
        body: Type.Object({ currency: Type.Optional(Currency) }, { additionalProperties: false }),
        response: withProblems({ 201: Wallet }, 400, 401, 403, 409, 413, 415, 422, 503)
      }
    },
    async (request, reply) => {
      const currency = supportedCurrency(
        request.body.currency ?? (supportedCurrencies[0] as string),
        supportedCurrencies
      )
      const { key, fingerprint } = idempotencyOf(request)
      const wallet = await bounded(
        createWallet(db, { ownerId: principalId(request), currency, idempotencyKey: key, fingerprint })
      )
      return reply.code(201).header('location', `/v1/wallets/${wallet.id}`).send(wallet)
    }
  )

  app.get(
    '/v1/wallets',
    {
      config: { access: 'user' },
      schema: {
        tags: ['wallets'],
        summary: 'Your wallets',
        security: [{ bearer: [] }],
        response: withProblems({ 200: Type.Object({ items: Type.Array(Wallet) }) }, 401, 403)
      }
    },
    async (request) => ({ items: await bounded(listWallets(db, principalId(request))) })
  )

  app.get(
    '/v1/wallets/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['wallets'],
        summary: 'One of your wallets',
        security: [{ bearer: [] }],
        params: IdParams,
        response: withProblems({ 200: Wallet }, 401, 403, 404)
      }
    },
    async (request) => bounded(ownedWallet(db, principalId(request), request.params.id))
  )

  app.get(
    '/v1/wallets/:id/transactions',
    {
      config: { access: 'user' },
      schema: {
        tags: ['wallets'],
        summary: 'Journal lines of one of your wallets, newest first',
        security: [{ bearer: [] }],
        params: IdParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
          },
          { additionalProperties: false }
        ),
        response: withProblems(
          {
            200: Type.Object({
              items: Type.Array(Entry),
              nextCursor: Type.Union([Type.String(), Type.Null()])
            })
          },
          400,
          401,
          403,
          404
        )
      }
    },
    async (request) => {
      const wallet = await bounded(ownedWallet(db, principalId(request), request.params.id))
      const { cursor, limit = 20 } = request.query
      const before = cursor === undefined ? undefined : decodeCursor(cursor)
      if (cursor !== undefined && before === undefined)
        throw new ValidationFailed('cursor is not one this service issued')
      return bounded(walletHistory(db, wallet.id, limit, before))
    }
  )
}
