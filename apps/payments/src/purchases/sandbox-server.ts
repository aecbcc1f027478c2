import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isFulfilmentRequest } from './provider-protocol.js'
import type { Sandbox } from './sandbox.js'

// The sandbox over HTTP (`pnpm --filter @moolah/payments sandbox`), so that several instances
// share one provider. The protocol is the README's "Provider protocol":
//   POST /fulfilments            FulfilmentRequest → 200 ProviderOutcome
//   GET  /fulfilments/:purchaseId                  → 200 ProviderStatus
// A bad request is a 400 and an unknown path a 404, both `{ error }`. The two transport faults
// are real: the lost answer and the request that never arrives destroy the socket.

/** Far above any fulfilment request; a bigger body is not one. */
const MAX_BODY_BYTES = 16 * 1024

export interface SandboxServerOptions {
  sandbox: Sandbox
  host?: string
  /** 0 (the default): any free port. */
  port?: number
}

export interface SandboxServer {
  /** Where it listens, e.g. `http://127.0.0.1:4010`. */
  url: string
  /** Stops listening, abandons the late fulfilments still waiting (their sockets are destroyed) and closes every connection. */
  close(): Promise<void>
}

export async function startSandboxServer({
  sandbox,
  host = '127.0.0.1',
  port = 0
}: SandboxServerOptions): Promise<SandboxServer> {
  const server = createServer((request, response) => {
    route(sandbox, request, response).catch(() => response.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address() as AddressInfo
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${hostInUrl}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        sandbox.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

async function route(sandbox: Sandbox, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url as string, 'http://sandbox').pathname
  if (request.method === 'POST' && path === '/fulfilments') return fulfil(sandbox, request, response)
  const statusPath = /^\/fulfilments\/([^/]+)$/.exec(path)
  if (request.method === 'GET' && statusPath !== null) {
    const purchaseId = decoded(statusPath[1] as string)
    if (purchaseId === undefined)
      return send(response, 400, { error: 'the purchase id is not valid percent-encoding' })
    return send(response, 200, sandbox.status(purchaseId))
  }
  send(response, 404, { error: `no route ${request.method} ${path}` })
}

async function fulfil(sandbox: Sandbox, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJson(request)
  if (!isFulfilmentRequest(body))
    return send(response, 400, { error: 'the body is not a fulfilment request' })
  // Rejects only when the sandbox closes before a late fulfilment: the socket is destroyed (route's catch).
  const reply = await sandbox.receive(body)
  if (reply.delivery === 'answer') return send(response, 200, reply.outcome)
  // The lost answer (fulfilled) and the request that never arrived (not recorded) look the
  // same to the client: the connection drops without a response.
  response.destroy()
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

/** The body as JSON; undefined when it is not JSON or too big to be a request of the protocol. */
async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  // Read to the end even past the limit: leaving the loop early would destroy the socket before the 400.
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= MAX_BODY_BYTES) chunks.push(chunk)
  }
  if (size > MAX_BODY_BYTES) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return undefined
  }
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text)
  })
  response.end(text)
}
