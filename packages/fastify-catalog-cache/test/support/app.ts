import Fastify, { type FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { catalogCache, type CatalogCacheEvent, type CatalogCacheOptions } from '../src/index.js'

export interface Teardown {
  teardown(fn: () => unknown): void
}

/** Gives each instance of a test its own plugin options (a shared store, or its own Redis client on a shared server). */
export type StoreFactory = (t: Teardown) => Promise<() => CatalogCacheOptions>

/** A catalog the size and shape of a provider feed (~30 KB). */
export function sampleCatalog(version: number, products = 200): { provider: string, version: number, products: Array<Record<string, unknown>> } {
  return {
    provider: 'flash',
    version,
    products: Array.from({ length: products }, (_, i) => ({ id: `p-${i}`, name: `Voucher ${i} of ${version}`, category: 'airtime', currency: 'ZAR', amount: 1000 + i }))
  }
}

/** A loader that counts its calls and whose result and behaviour the test can change. */
export class CountingLoader {
  calls = 0
  version = 1
  delayMs = 30
  failure: Error | undefined
  value: unknown

  readonly load = async (): Promise<unknown> => {
    this.calls++
    await sleep(this.delayMs)
    if (this.failure !== undefined) throw this.failure
    return this.value ?? sampleCatalog(this.version)
  }
}

export interface AppOptions extends CatalogCacheOptions {
  events?: CatalogCacheEvent[]
}

/** A Fastify app with the plugin and a `GET /catalog/:name` route (404 from the handler for unknown names). */
export async function createApp(t: Teardown, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify()
  const { events, ...pluginOptions } = options
  await app.register(catalogCache, { jitter: 0, ...pluginOptions, ...(events === undefined ? {} : { onEvent: (event) => { events.push(event) } }) })
  app.get<{ Params: { name: string } }>('/catalog/:name', {
    config: { catalogCache: (request) => (app.catalogCache.has((request.params as { name: string }).name) ? (request.params as { name: string }).name : undefined) }
  }, async (_request, reply) => reply.code(404).send({ code: 'NOT_FOUND' }))
  t.teardown(() => app.close())
  return app
}

export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<number> {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
  return Date.now() - started
}
