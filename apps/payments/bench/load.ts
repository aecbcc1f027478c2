// The load generator, a process of its own so its CPU is neither the server's nor the
// orchestrator's: reads a LoadJob (see load-job.ts) from stdin, drives autocannon, prints
// a LoadResult as one JSON line on stdout.
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import {
  GO_LINE,
  READY_LINE,
  type LoadJob,
  type LoadResult,
  type Party,
  type Product,
  type Replayable,
  type TrafficPattern
} from './load-job.js'

type Context = Record<string, unknown>

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const nextLine = async (): Promise<string> => {
  const line = await lines.next()
  if (line.done === true) throw new Error('load: stdin closed before the job started')
  return line.value
}

const job = JSON.parse(await nextLine()) as LoadJob
const mismatches: string[] = []
let mismatchCount = 0

const request = requestOf(job)
console.log(READY_LINE)
if ((await nextLine()) !== GO_LINE) throw new Error('load: expected the go line')

const result = await autocannon({
  url: job.url,
  connections: job.connections,
  duration: job.durationS,
  requests: [{ method: 'POST', ...request }]
})

const statuses: Record<string, number> = {}
for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count ?? 0
const answer: LoadResult = {
  durationS: result.duration,
  ok: result['2xx'],
  statuses,
  errors: result.errors,
  latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  replayMismatches: mismatchCount,
  replayMismatchSamples: mismatches
}
console.log(JSON.stringify(answer))
process.exit(0)

function random<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T
}

type LoadRequest = Pick<autocannon.Request, 'path' | 'setupRequest' | 'onResponse'>

function requestOf(job: LoadJob): LoadRequest {
  switch (job.kind) {
    case 'transfers':
      return { path: '/v1/transfers', ...transferRequest(job.pattern, job.payers, job.merchant) }
    case 'purchases':
      return { path: '/v1/purchases', ...purchaseRequest(job.product, job.payers) }
    case 'replays':
      return { path: '/v1/transfers', ...replayRequest(job.replayables) }
  }
}

/** The headers of a new request of `payer`: its own key as bearer, a fresh Idempotency-Key. */
function newRequestHeaders(payer: Party): Record<string, string> {
  return {
    authorization: `Bearer ${payer.apiKey}`,
    'content-type': 'application/json',
    'idempotency-key': randomUUID()
  }
}

/** A new transfer per request. */
function transferRequest(
  pattern: TrafficPattern,
  payers: Party[],
  merchant: Party
): Pick<autocannon.Request, 'setupRequest'> {
  const hot = payers[0] as Party
  const pick = (): [Party, Party] => {
    if (pattern === 'hot-payee') return [random(payers), merchant]
    const from = pattern === 'hot-payer' ? hot : random(payers)
    let to = random(payers)
    while (to === from) to = random(payers)
    return [from, to]
  }
  return {
    setupRequest: (req) => {
      const [from, to] = pick()
      return {
        ...req,
        headers: newRequestHeaders(from),
        body: JSON.stringify({
          fromWalletId: from.walletId,
          toWalletId: to.walletId,
          amount: 1,
          currency: 'ZAR'
        })
      }
    }
  }
}

/** A new purchase of `product` per request, by a random payer from its wallet. */
function purchaseRequest(product: Product, payers: Party[]): Pick<autocannon.Request, 'setupRequest'> {
  return {
    setupRequest: (req) => {
      const payer = random(payers)
      return {
        ...req,
        headers: newRequestHeaders(payer),
        body: JSON.stringify({ walletId: payer.walletId, ...product })
      }
    }
  }
}

/** A completed request again, with its key and body; the answer must be the stored one. */
function replayRequest(replayables: Replayable[]): Pick<autocannon.Request, 'setupRequest' | 'onResponse'> {
  return {
    setupRequest: (req, context) => {
      const replayable = random(replayables)
      ;(context as Context).replayable = replayable
      return {
        ...req,
        headers: {
          authorization: `Bearer ${replayable.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': replayable.idempotencyKey
        },
        body: replayable.body
      }
    },
    onResponse: (status, body, context, headers) => {
      const replayable = (context as Context).replayable as Replayable
      const replayed = Object.entries(headers ?? {}).find(
        ([name]) => name.toLowerCase() === 'idempotent-replayed'
      )?.[1]
      if (status === 201 && replayed === 'true' && body === replayable.response) return
      mismatchCount++
      if (mismatches.length < 3)
        mismatches.push(`${status} idempotent-replayed=${String(replayed)} body=${body.slice(0, 200)}`)
    }
  }
}
