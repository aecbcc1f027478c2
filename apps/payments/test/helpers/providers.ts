import { randomUUID } from 'node:crypto'
import { freePort, type Teardown } from '@moolah/test-utils'
import { createHttpProvider } from '../../src/purchases/http-provider.js'
import type { FulfilmentRequest, ProviderPort } from '../../src/purchases/provider-port.js'
import { Sandbox } from '../../src/purchases/sandbox.js'
import { createSandboxProvider } from '../../src/purchases/sandbox-provider.js'
import { startSandboxServer, type SandboxServer } from '../../src/purchases/sandbox-server.js'

/** A fulfilment request for an R10 Vodacom airtime to `recipient`, under a new purchase id. */
export function purchase(
  recipient: string | null,
  overrides: Partial<FulfilmentRequest> = {}
): FulfilmentRequest {
  return {
    purchaseId: randomUUID(),
    provider: 'flash',
    productId: 'flash-vodacom-airtime-10',
    amount: 1000,
    currency: 'ZAR',
    recipient,
    ...overrides
  }
}

/** A signal that never aborts. */
export const never = new AbortController().signal

export interface Rig {
  provider: ProviderPort
  /** The sandbox behind the provider, to count its fulfilments. */
  sandbox: Sandbox
}

/** The sandbox in process. */
export async function inProcessRig(t: Teardown, delayMs: number): Promise<Rig> {
  const sandbox = new Sandbox({ delayMs })
  const provider = createSandboxProvider({ sandbox })
  t.teardown(() => provider.close())
  return { provider, sandbox }
}

/** The sandbox server on a free port, started and closed at teardown. */
export async function sandboxServer(t: Teardown, sandbox: Sandbox): Promise<SandboxServer> {
  const server = await startSandboxServer({ sandbox, port: await freePort() })
  t.teardown(() => server.close())
  return server
}

/** The sandbox behind its HTTP server, through the HTTP provider. */
export async function overHttpRig(
  t: Teardown,
  delayMs: number,
  timeoutMs = 30_000
): Promise<Rig & { server: SandboxServer }> {
  const sandbox = new Sandbox({ delayMs })
  const server = await sandboxServer(t, sandbox)
  const provider = createHttpProvider({ url: server.url, timeoutMs })
  t.teardown(() => provider.close())
  return { provider, sandbox, server }
}
