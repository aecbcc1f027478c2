import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import { walletLock, type WalletLockEvent, type WalletLockOptions } from '../../src/index.js'

/** A Fastify app with the plugin registered (memory store unless options say otherwise), closed at teardown. */
export async function lockApp(
  t: Test,
  options: WalletLockOptions = {},
  serverOptions: FastifyServerOptions = {}
): Promise<{ app: FastifyInstance; events: WalletLockEvent[] }> {
  const app = Fastify(serverOptions)
  t.teardown(() => app.close())
  const events: WalletLockEvent[] = []
  await app.register(walletLock, { onEvent: (event) => events.push(event), ...options })
  return { app, events }
}
