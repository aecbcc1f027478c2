import type { FastifyReply } from 'fastify'
import type { IdempotencyEventBase } from './events.js'
import type { LeaseRenewals } from './lease-renewals.js'
import type { RouteSettings } from './options.js'

/** What `request.idempotency` tells the application (e.g. to write into its own UNIQUE-constrained rows). */
export interface IdempotencyContext {
  /** The client's Idempotency-Key. */
  key: string
  /** The principal from `scope(request)`; '' without a scope function. */
  scope: string
  /** The request fingerprint stored with the record. */
  fingerprint: string
}

/** A request that owns an in-flight claim, until its response is settled (committed or released). */
export interface ClaimedRequest {
  storageKey: string
  token: string
  route: RouteSettings
  event: IdempotencyEventBase
  reply: FastifyReply
  /** Renews this claim's lease until the response is settled. */
  renewals: LeaseRenewals<ClaimedRequest>
  /** The handler (or a later hook) threw: the claim is released whatever the status. */
  errored: boolean
  settled: boolean
}

export const kClaimedRequest = Symbol('@moolah/fastify-idempotency claimed request')
