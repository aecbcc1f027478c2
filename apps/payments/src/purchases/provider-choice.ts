import type { Config } from '../config.js'
import { createHttpProvider } from './http-provider.js'
import type { ProviderPort } from './provider-port.js'
import { createSandboxProvider } from './sandbox-provider.js'

/**
 * The provider of a running service: `PROVIDER_URL` set → the HTTP client of the sandbox's
 * protocol (the sandbox command shared by several instances, or a real provider speaking it),
 * else the sandbox in process (one instance).
 */
export function chooseProvider(
  config: Pick<Config, 'providerUrl' | 'providerTimeoutMs' | 'sandboxDelayMs'>
): ProviderPort {
  return config.providerUrl === undefined
    ? createSandboxProvider({ delayMs: config.sandboxDelayMs })
    : createHttpProvider({ url: config.providerUrl, timeoutMs: config.providerTimeoutMs })
}
