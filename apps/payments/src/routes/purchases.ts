import { Type, type Static } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Timeouts } from '@moolah/plugin-kit'
import type { Catalog } from '../catalogs/catalog-store.js'
import { ProductCurrencyMismatch, PurchaseFailed, WalletNotFound } from '../errors.js'
import { WalletDirectory } from '../ledger/wallet-directory.js'
import { pricePurchase, type PricedPurchase } from '../purchases/pricing.js'
import {
  purchaseOfKey,
  recordPurchase,
  settlePurchase,
  visiblePurchase,
  type PurchaseView
} from '../purchases/purchase-ledger.js'
import type { ProviderOutcome, ProviderPort } from '../purchases/provider-port.js'
import { fenceOf, idempotencyOf, principalId } from './request-context.js'
import { Amount, Id, IdempotencyKeyHeader, IdParams, Purchase, Reference, withProblems } from './schemas.js'

const PurchaseRequest = Type.Object(
  {
    walletId: Id,
    provider: Type.Union([Type.Literal('flash'), Type.Literal('easypay')]),
    productId: Type.String({ minLength: 1, maxLength: 200 }),
    amount: Type.Optional(Amount),
    // Checked against the product's category (422 INVALID_RECIPIENT), not here.
    recipient: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'E.164 mobile number (+27…) for airtime and data, 11-digit meter number for electricity; optional for vouchers'
      })
    ),
    reference: Type.Optional(Reference)
  },
  { additionalProperties: false }
)

type PurchaseBody = Static<typeof PurchaseRequest>

export interface PurchaseRoutesOptions {
  provider: ProviderPort
}

/** The settler may pick a purchase up once the request's own call to the provider has surely ended. */
const SETTLER_GRACE_MS = 1000

/**
 * A purchase: priced from the cached catalog, recorded with the money moved (one statement),
 * then the provider asked to fulfil it. A certain outcome is settled at once (201, or 422 with
 * the refund done); an unknown one is answered 202 and left to the settler.
 */
export const purchaseRoutes: FastifyPluginAsyncTypebox<PurchaseRoutesOptions> = async (app, { provider }) => {
  const directory = new WalletDirectory(app.database)
  const { providerTimeoutMs } = app.config
  // The port aborts on its signal; this deadline also holds for an adapter that would not.
  const providerCalls = new Timeouts(providerTimeoutMs + 100)
  // What the preHandler decided, for the handler of the same request: the priced purchase, or
  // the purchase its key recorded earlier.
  const priced = new WeakMap<FastifyRequest, PricedPurchase | PurchaseView>()

  app.post(
    '/v1/purchases',
    {
      config: {
        access: 'user',
        movement: 'purchase',
        // Only a completed purchase is stored: a pending one must answer its current state on a
        // retry, and a failed one is answered from its row, so the key is released for both and
        // the retry meets the unique key in post_purchase(), which answers the recorded purchase.
        idempotency: { shouldStore: (statusCode: number) => statusCode === 201 },
        // Only the paying wallet: the settlement account is credited, serialized by its row lock alone.
        walletLock: (request) => (request.body as PurchaseBody).walletId
      },
      schema: {
        tags: ['purchases'],
        summary: 'Buy a Flash or EasyPay product from one of your wallets',
        description:
          '201 completed, 202 pending (settled in the background; GET it later), 422 PURCHASE_FAILED (refunded).',
        security: [{ bearer: [] }],
        headers: IdempotencyKeyHeader,
        body: PurchaseRequest,
        response: withProblems(
          { 201: Purchase, 202: Purchase },
          400,
          401,
          403,
          404,
          409,
          413,
          415,
          422,
          429,
          503
        )
      },
      // Before the wallet lock (taken in the last preHandler): only the owner may queue on it, and
      // a request the catalog refuses never does. No Postgres or provider read: the wallet's facts
      // and the catalog are cached in process.
      preHandler: async (request) => {
        const body = request.body
        body.walletId = body.walletId.toLowerCase()
        const wallet = await directory.facts(body.walletId)
        if (wallet?.ownerId !== principalId(request)) throw new WalletNotFound(body.walletId)
        const catalog = await app.catalogCache.get<Catalog>(body.provider)
        try {
          const purchase = pricePurchase(catalog.value, body)
          if (purchase.currency !== wallet.currency)
            throw new ProductCurrencyMismatch(purchase.currency, wallet.currency)
          priced.set(request, purchase)
        } catch (refusal) {
          const { key, fingerprint } = idempotencyOf(request)
          const recorded = await app.database.bounded(
            purchaseOfKey(app.database.db, principalId(request), key, fingerprint)
          )
          if (recorded === undefined) throw refusal
          priced.set(request, recorded)
        }
      }
    },
    async (request, reply) => {
      const body = request.body
      const decided = priced.get(request) as PricedPurchase | PurchaseView
      if ('id' in decided) return answer(reply, decided)
      const { key, fingerprint } = idempotencyOf(request)
      const { purchase, created } = await recordPurchase(app.database, {
        ...decided,
        userId: principalId(request),
        walletId: body.walletId,
        provider: body.provider,
        reference: body.reference ?? null,
        idempotencyKey: key,
        fingerprint,
        fence: fenceOf(request, body.walletId),
        settleAfterMs: providerTimeoutMs + SETTLER_GRACE_MS
      })
      // The money has moved: the payer's next request need not wait for the provider.
      void request.walletLock?.release()
      if (!created) return answer(reply, purchase)

      let outcome: ProviderOutcome
      try {
        outcome = await providerCalls.run(
          provider.fulfil({ ...purchase, purchaseId: purchase.id }, AbortSignal.timeout(providerTimeoutMs)),
          'provider fulfil'
        )
      } catch (error) {
        request.log.info(
          { err: error, purchaseId: purchase.id },
          'purchase outcome unknown; the settler will ask the provider'
        )
        return answer(reply, purchase)
      }
      const settled = await settlePurchase(app.database, purchase.id, outcome).catch((error: unknown) => {
        // The provider's answer is not recorded: still pending, and the settler will ask again.
        request.log.warn(
          { err: error, purchaseId: purchase.id },
          'purchase outcome known but not recorded; the settler will ask the provider'
        )
        return undefined
      })
      return answer(reply, { ...purchase, ...settled })
    }
  )

  app.get(
    '/v1/purchases/:id',
    {
      config: { access: 'user' },
      schema: {
        tags: ['purchases'],
        summary: 'One of your purchases, in its current state',
        security: [{ bearer: [] }],
        params: IdParams,
        response: withProblems({ 200: Purchase }, 401, 403, 404)
      }
    },
    async (request) =>
      app.database.bounded(visiblePurchase(app.database.db, principalId(request), request.params.id))
  )
}

/** 201 completed, 202 pending, 422 PURCHASE_FAILED: the purchase's state, on the first request and on every retry. */
function answer(reply: FastifyReply, purchase: PurchaseView): FastifyReply {
  if (purchase.status === 'failed') throw new PurchaseFailed(purchase.id, purchase.failureCode as string)
  return reply
    .code(purchase.status === 'completed' ? 201 : 202)
    .header('location', `/v1/purchases/${purchase.id}`)
    .send(purchase)
}
