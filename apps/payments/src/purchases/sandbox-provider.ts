import { ProviderOutcomeUnknown, ProviderStatusUnavailable } from './provider-errors.js'
import type { FulfilmentRequest, ProviderOutcome, ProviderPort, ProviderStatus } from './provider-port.js'
import { Sandbox } from './sandbox.js'

export interface SandboxProviderOptions {
  /** How long the late recipient takes (SANDBOX_DELAY_MS); ignored when `sandbox` is given. */
  delayMs?: number
  /** The sandbox to use, e.g. to count its fulfilments in a test; it is closed with the provider. */
  sandbox?: Sandbox
}

/**
 * The sandbox in process (PROVIDER_URL unset, one instance). The transport faults behave as
 * they do over HTTP: the lost answer and the request that never arrives reject (outcome
 * unknown), and an aborted call rejects while the sandbox goes on with the request.
 */
export function createSandboxProvider(options: SandboxProviderOptions = {}): ProviderPort {
  const sandbox = options.sandbox ?? new Sandbox({ delayMs: options.delayMs })
  return {
    async fulfil(request: FulfilmentRequest, signal: AbortSignal): Promise<ProviderOutcome> {
      const unknown = (why: string, cause?: unknown) =>
        new ProviderOutcomeUnknown(request.purchaseId, why, { cause })
      if (signal.aborted) throw unknown('aborted before sending', signal.reason)
      let onAbort!: () => void
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(unknown('aborted while waiting for the answer', signal.reason))
        signal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        const reply = await Promise.race([
          sandbox.receive(request).catch((err: unknown) => {
            throw unknown((err as Error).message, err)
          }),
          aborted
        ])
        if (reply.delivery === 'answer-lost')
          throw unknown('the connection dropped after the request was sent')
        if (reply.delivery === 'never-reached')
          throw unknown('the connection dropped before the request arrived')
        return reply.outcome
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    },

    async status(purchaseId: string, signal: AbortSignal): Promise<ProviderStatus> {
      if (signal.aborted) throw new ProviderStatusUnavailable(purchaseId, 'aborted', { cause: signal.reason })
      return sandbox.status(purchaseId)
    },

    async close(): Promise<void> {
      sandbox.close()
    }
  }
}
