import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { ProviderOutcomeUnknown, ProviderStatusUnavailable } from './provider-errors.js'
import type { FulfilmentRequest, ProviderOutcome, ProviderPort, ProviderStatus } from './provider-port.js'
import { isProviderOutcome, isProviderStatus } from './provider-protocol.js'

// The client of the provider protocol (README, "Provider protocol") for PROVIDER_URL: it talks
// to the sandbox server today and is the template for the real Flash and EasyPay adapters.
// Its one rule: only a 2xx answer of the protocol's shape is an answer. A timeout, a refused
// or dropped connection, another status or a malformed body all reject, and the purchase flow
// reads a rejection as "outcome unknown" and settles the purchase later through `status`.

export interface HttpProviderOptions {
  /** The provider's base URL (PROVIDER_URL), http: or https:; the protocol's paths are below it. */
  url: string
  /** The longest one call may take, connecting and reading the answer included (PROVIDER_TIMEOUT_MS). */
  timeoutMs: number
}

/** Far above any answer of the protocol; a bigger one is not one. */
const MAX_ANSWER_BYTES = 64 * 1024

/**
 * How long an idle keep-alive connection is kept: less than the 5 s after which a Node server
 * (the sandbox's) closes it, so that a request is never sent on a connection the server is
 * closing; that would reset it and make the outcome unknown for nothing.
 */
const IDLE_CONNECTION_MS = 4000

export function createHttpProvider({ url, timeoutMs }: HttpProviderOptions): ProviderPort {
  const base = new URL(url)
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new TypeError(`the provider URL must be http: or https:, got "${base.protocol}"`)
  // A trailing slash, so that "fulfilments" resolves below a base path such as /v1.
  base.pathname = base.pathname.replace(/\/?$/, '/')
  const secure = base.protocol === 'https:'
  // Keep-alive: a purchase should not pay for a TCP (and TLS) handshake. close() destroys these sockets.
  const agentOptions = { keepAlive: true, timeout: IDLE_CONNECTION_MS }
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions)
  const send = secure ? httpsRequest : httpRequest

  /** One exchange: the JSON of a 2xx answer; rejects on anything else, saying why. */
  function exchange(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal
  ): Promise<unknown> {
    // One signal for the caller's abort and the timeout: either destroys the request.
    const stop = new AbortController()
    const timer = setTimeout(() => stop.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    const onAbort = () => stop.abort(new Error('aborted by the caller'))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })

    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<unknown>((resolve, reject) => {
      // After an abort the error is a generic AbortError; the reason says which abort it was.
      const fail = (err: Error) => reject(stop.signal.aborted ? (stop.signal.reason as Error) : err)
      const request = send(
        new URL(path, base),
        {
          method,
          agent,
          signal: stop.signal,
          headers: {
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
          }
        },
        (response) => {
          readAnswer(response).then(resolve, fail)
        }
      )
      request.on('error', fail)
      request.end(payload)
    }).finally(() => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    })
  }

  async function ask<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal,
    conforms: (answer: unknown) => answer is T
  ): Promise<T> {
    const answer = await exchange(method, path, body, signal)
    if (!conforms(answer))
      throw new Error(`the answer does not follow the protocol: ${JSON.stringify(answer).slice(0, 200)}`)
    return answer
  }

  return {
    fulfil(request: FulfilmentRequest, signal: AbortSignal): Promise<ProviderOutcome> {
      return ask('POST', 'fulfilments', request, signal, isProviderOutcome).catch((err: Error) => {
        throw new ProviderOutcomeUnknown(request.purchaseId, err.message, { cause: err })
      })
    },

    status(purchaseId: string, signal: AbortSignal): Promise<ProviderStatus> {
      return ask(
        'GET',
        `fulfilments/${encodeURIComponent(purchaseId)}`,
        undefined,
        signal,
        isProviderStatus
      ).catch((err: Error) => {
        throw new ProviderStatusUnavailable(purchaseId, err.message, { cause: err })
      })
    },

    async close(): Promise<void> {
      agent.destroy()
    }
  }
}

/** The body of a 2xx answer as JSON. The body of any other answer is read too, so that its socket can be reused. */
async function readAnswer(response: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_ANSWER_BYTES) {
      response.destroy()
      throw new Error(`the answer is longer than ${MAX_ANSWER_BYTES} bytes`)
    }
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  const status = response.statusCode as number
  if (status < 200 || status > 299) throw new Error(`the provider answered ${status}: ${text.slice(0, 200)}`)
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`the answer is not JSON: ${text.slice(0, 200)}`)
  }
}
