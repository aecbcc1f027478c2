// Checked by `pnpm typecheck` (not run by tap): the declaration merging works from register() alone.
import Fastify from 'fastify'
import { catalogCache, type CatalogCacheEvent, type CatalogResult } from '../src/index.js'

const app = Fastify()
await app.register(catalogCache, {
  ttl: 60,
  timeoutMs: 200,
  leaseMs: 10_000,
  failMode: 'closed',
  onEvent: (event: CatalogCacheEvent) => {
    if (event.type === 'load') void event.durationMs
  }
})

app.catalogCache.define('flash', {
  load: async () => ({ products: [] as string[] }),
  ttl: 300,
  staleWhileRevalidate: 60,
  staleIfError: 3600,
  tags: ['providers']
})
const result: CatalogResult<{ products: string[] }> = await app.catalogCache.get<{ products: string[] }>(
  'flash'
)
const state: 'hit' | 'miss' | 'stale' = result.state
void state
const names: string[] = await app.catalogCache.invalidate({ tag: 'providers' })
void names
await app.catalogCache.refresh('flash')

app.get('/a', { config: { catalogCache: 'flash' } }, async () => ({}))
app.get(
  '/b',
  { config: { catalogCache: (request) => (request.url === '/b' ? 'flash' : undefined) } },
  async () => ({})
)
app.get('/c', async (_request, reply) => reply.catalog('flash'))

// @ts-expect-error a catalog route names a catalog, not a number
app.get('/d', { config: { catalogCache: 1 } }, async () => ({}))
// @ts-expect-error the selector returns a name or undefined
app.get('/e', { config: { catalogCache: () => 1 } }, async () => ({}))
// @ts-expect-error tags are strings
app.catalogCache.define('x', { load: () => 1, tags: [1] })
// @ts-expect-error ttl is a number of seconds
app.catalogCache.define('y', { load: () => 1, ttl: '60' })
// @ts-expect-error reply.catalog takes a name
app.get('/f', async (_request, reply) => reply.catalog())
// @ts-expect-error options are typed
await app.register(catalogCache, { timeoutMs: '200' })
// @ts-expect-error failMode is 'closed' or 'open'
await app.register(catalogCache, { failMode: 'sometimes' })
// @ts-expect-error onEvent receives typed events
await app.register(catalogCache, { onEvent: (event: { type: 'nope' }) => event })
// @ts-expect-error invalidate takes a name or { tag }
await app.catalogCache.invalidate({ name: 'flash' })
