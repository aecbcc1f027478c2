import type { RedisClient } from '@moolah/plugin-kit'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { WalletLockManager } from './lock-manager.js'
import { MemoryLockStore } from './memory-store.js'
import { resolveOptions, type ResolvedOptions, type WalletLockPluginOptions } from './options.js'
import { RedisLockStore } from './redis-store.js'
import { lockRoute, type WalletLockRouteConfig } from './route-lock.js'
import type { LockStore } from './store.js'
import type { WalletLock } from './wallet-lock.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Takes wallet locks: `acquire`, `withLock`. */
    walletLock: WalletLockManager
  }
  interface FastifyRequest {
    /** The locks this request holds (routes with `config.walletLock`), else null. */
    walletLock: WalletLock | null
  }
  interface FastifyContextConfig {
    /** Lock the resources this returns before the handler; released once the handler has answered. */
    walletLock?: WalletLockRouteConfig
  }
}

/** The given store, else a Redis store on `redis` or `fastify.redis`, else a memory store. */
function chooseStore(fastify: FastifyInstance, options: ResolvedOptions): { store: LockStore, owned: boolean } {
  if (options.store !== undefined) return { store: options.store, owned: false }
  const redis = options.redis ?? (fastify.hasDecorator('redis') ? (fastify as unknown as { redis: RedisClient }).redis : undefined)
  if (redis === undefined) return { store: new MemoryLockStore(), owned: true }
  return { store: new RedisLockStore({ redis, prefix: options.prefix, timeoutMs: options.timeoutMs, pollMs: options.pollMs }), owned: true }
}

const walletLockPlugin: FastifyPluginAsync<WalletLockPluginOptions> = async (fastify, rawOptions) => {
  const options = resolveOptions(rawOptions)
  const { store, owned } = chooseStore(fastify, options)
  const manager = new WalletLockManager({ store, ttlMs: options.ttlMs, waitMs: options.waitMs, turnMs: options.turnMs, failMode: options.failMode, onEvent: options.onEvent, log: fastify.log })
  fastify.decorate('walletLock', manager)
  fastify.decorateRequest('walletLock', null)
  fastify.addHook('onRoute', (route) => lockRoute(route, manager))
  if (owned) fastify.addHook('onClose', () => store.close())
}

export const walletLock = fp(walletLockPlugin, { name: '@moolah/fastify-wallet-lock', fastify: '5.x' })
