import type { Config } from '../config.js'
import type { ProviderPort } from './provider-port.js'

/**
 * The provider of a running service: `PROVIDER_URL` set → the HTTP client of the sandbox's
 * protocol, else the sandbox in process.
 *
 * MERGE: the adapters (src/purchases/sandbox-provider.ts, http-provider.ts) are built on
 * another branch. Until they are merged this answers with a provider that cannot be reached,
 * so purchases are recorded and stay pending. At merge, the body becomes:
 *   return config.providerUrl === undefined
 *     ? createSandboxProvider()
 *     : createHttpProvider({ url: config.providerUrl, timeoutMs: config.providerTimeoutMs })
 */
export function chooseProvider(config: Pick<Config, 'providerUrl' | 'providerTimeoutMs'>): ProviderPort {
  const unreachable = async (): Promise<never> => { throw new Error(`no provider adapter is wired yet (PROVIDER_URL ${config.providerUrl ?? 'unset'})`) }
  return { fulfil: unreachable, status: unreachable, close: async () => {} }
}
