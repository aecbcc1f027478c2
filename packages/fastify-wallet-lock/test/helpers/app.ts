import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import { walletLock } from '../../src/plugin.js'
import type { WalletLockPluginOptions } from '../../src/options.js'
import type { WalletLockEvent } from '../../src/events.js'

/** A Fastify app with the plugin registered (memory store unless options say otherwise), closed at teardown. */
export async function lockApp(t: Test, options: WalletLockPluginOptions = {}, serverOptions: FastifyServerOptions = {}): Promise<{ app: FastifyInstance, events: WalletLockEvent[] }> {
  const app = Fastify(serverOptions)
  t.teardown(() => app.close())
  const events: WalletLockEvent[] = []
  await app.register(walletLock, { onEvent: (event) => events.push(event), ...options })
  return { app, events }
}
