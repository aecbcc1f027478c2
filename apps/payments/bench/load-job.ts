// What the orchestrator (run.ts) asks of the load generator process (load.ts), and what it
// answers. The job goes to load.ts's stdin as one JSON line; load.ts answers `ready`, waits
// for a `go` line (the orchestrator reads its counters in between), then prints the result.

/** A user's API key and one of the user's wallets. */
export interface Party {
  userId: string
  apiKey: string
  walletId: string
}

/** A completed transfer request, to be sent again exactly as it was. */
export interface Replayable {
  apiKey: string
  idempotencyKey: string
  /** The request body, byte for byte. */
  body: string
  /** The 201 body the first request was answered with. */
  response: string
}

export type TrafficPattern =
  /** Every payer pays a random other payer. */
  | 'uniform'
  /** The first payer pays random other payers. */
  | 'hot-payer'
  /** Every payer pays the merchant. */
  | 'hot-payee'

/** What a purchase buys (payments-api.md, "Purchases"); its price comes from the catalog. */
export interface Product {
  provider: 'flash' | 'easypay'
  productId: string
  recipient: string
}

export type LoadJob = {
  url: string
  connections: number
  durationS: number
} & (
  | { kind: 'transfers'; pattern: TrafficPattern; payers: Party[]; merchant: Party }
  | { kind: 'replays'; replayables: Replayable[] }
  | { kind: 'purchases'; product: Product; payers: Party[] }
)

export interface LoadResult {
  /** Seconds autocannon ran. */
  durationS: number
  /** Responses with a 2xx status. */
  ok: number
  /** Responses by status code, 2xx included. */
  statuses: Record<string, number>
  /** Connection errors and timeouts (no response at all). */
  errors: number
  latencyMs: { p50: number; p99: number; max: number }
  /** Replays only: answers that were not the stored 201, byte for byte, with `Idempotent-Replayed: true`. */
  replayMismatches: number
  /** Replays only: a few of those answers, for the report. */
  replayMismatchSamples: string[]
}

export const READY_LINE = 'ready'
export const GO_LINE = 'go'
