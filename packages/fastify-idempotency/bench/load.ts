import autocannon from 'autocannon'
import type { Redis } from 'ioredis'
import { redisCpuMicros } from './redis-figures.js'
import type { Server } from './servers.js'

export type Mode = 'first' | 'replay'

export interface Load {
  rps: number
  p50: number
  p99: number
  /** Non-2xx answers, connection errors and timeouts. */
  failures: number
  /** Server CPU time per completed request, in microseconds. */
  cpuMicrosPerRequest: number
  /** Redis server CPU time per completed request (whoever else uses that Redis included). */
  redisCpuMicrosPerRequest: number
}

const CONNECTIONS = 16
const BODY = JSON.stringify({ amount: 1050, currency: 'ZAR', toWalletId: 'w-2' })
const HEADERS = { 'content-type': 'application/json', 'x-user': 'user-1' }

export const LOAD_CONNECTIONS = CONNECTIONS

/** The key every replay run sends: `prime` completes it once before the first replay run. */
export function replayKey(runId: string): string {
  return `${runId}-replay`
}

let counter = 0

/**
 * Drives `server` with autocannon for `seconds`: in `first` mode every request carries a
 * new key (the first-request path), in `replay` mode all carry the same completed key.
 */
export async function load(
  server: Server,
  mode: Mode,
  seconds: number,
  runId: string,
  redis: Redis
): Promise<Load> {
  const before = await server.figures()
  const redisBefore = await redisCpuMicros(redis)
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/transfers',
        headers: { ...HEADERS, 'idempotency-key': replayKey(runId) },
        body: BODY,
        ...(mode === 'first'
          ? {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                headers: { ...request.headers, 'idempotency-key': `${runId}-${counter++}` }
              })
            }
          : {})
      }
    ]
  })
  const after = await server.figures()
  const redisAfter = await redisCpuMicros(redis)
  const requests = Math.max(1, result.requests.total)
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    cpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / requests,
    redisCpuMicrosPerRequest: (redisAfter - redisBefore) / requests
  }
}

/** One request, awaited to the last byte. */
export async function send(server: Server, key: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${server.port}/transfers`, {
    method: 'POST',
    headers: { ...HEADERS, 'idempotency-key': key },
    body: BODY
  })
  await response.arrayBuffer()
}
