import type { Teardown } from '@moolah/test-utils'
import Fastify, { type FastifyInstance } from 'fastify'
import { setTimeout as sleep } from 'node:timers/promises'
import { catalogCache, type CatalogCacheEvent, type CatalogCacheOptions } from '../../src/index.js'

/** Gives each instance of a test its own plugin options (a shared store, or its own Redis client on a shared server). */
export type StoreFactory = (t: Teardown) => Promise<() => CatalogCacheOptions>

/** A catalog the size and shape of a provider feed (~30 KB). */
export function sampleCatalog(
  version: number,
  products = 200
): { provider: string; version: number; products: Array<Record<string, unknown>> } {
  return {
    provider: 'flash',
    version,
    products: Array.from({ length: products }, (_, i) => ({
      id: `p-${i}`,
      name: `Voucher ${i} of ${version}`,
      category: 'airtime',
      currency: 'ZAR',
      amount: 1000 + i
    }))
  }
}

/** A loader that counts its calls and whose result and behaviour the test can change. */
export class CountingLoader {
  calls = 0
  version = 1
  delayMs = 30
  failure: Error | undefined
  value: unknown
  /** While set, every load waits for it: the test decides when loads finish, not the clock. */
  gate: Promise<void> | undefined

  readonly load = async (): Promise<unknown> => {
    this.calls++
    await sleep(this.delayMs)
    await this.gate
    if (this.failure !== undefined) throw this.failure
    return this.value ?? sampleCatalog(this.version)
  }

  /** Holds every load until the returned function is called. */
  hold(): () => void {
    let release!: () => void
    this.gate = new Promise((resolve) => {
      release = resolve
    })
    return () => {
      this.gate = undefined
      release()
    }
  }
}

export interface AppOptions extends CatalogCacheOptions {
  events?: CatalogCacheEvent[]
}

/** A Fastify app with the plugin and a `GET /catalog/:name` route (404 from the handler for unknown names). */
export async function createApp(t: Teardown, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify()
  const { events, ...pluginOptions } = options
  await app.register(catalogCache, {
    jitter: 0,
    ...pluginOptions,
    ...(events === undefined
      ? {}
      : {
          onEvent: (event) => {
            events.push(event)
          }
        })
  })
  app.get<{ Params: { name: string } }>(
    '/catalog/:name',
    {
      config: {
        catalogCache: (request) =>
          app.catalogCache.has((request.params as { name: string }).name)
            ? (request.params as { name: string }).name
            : undefined
      }
    },
    async (_request, reply) => reply.code(404).send({ code: 'NOT_FOUND' })
  )
  t.teardown(() => app.close())
  return app
}

/** The whole seconds of `directive=` in a header value (Cache-Control's max-age, Cache-Status' ttl). */
export function seconds(header: unknown, directive: 'max-age' | 'ttl'): number {
  const match = new RegExp(`${directive}=(-?\\d+)`).exec(String(header))
  return match === null ? NaN : Number(match[1])
}
