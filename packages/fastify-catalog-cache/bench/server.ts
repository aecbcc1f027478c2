// The HTTP side of the benchmark, in its own process so autocannon does not share its CPU.
// Every variant is its own Fastify instance, so the bare route carries none of our hooks.
import Fastify, { type FastifyInstance } from 'fastify'
import { buildCatalog } from './catalog.js'
import { bentoCache, dedupeCache, moolahApp } from './contenders.js'

const prefix = process.argv[2] ?? 'bench:'
const catalog = buildCatalog()
const body = Buffer.from(JSON.stringify(catalog))
const load = async () => catalog

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as { port: number }).port
}

const bare = Fastify()
bare.get('/catalog', (_request, reply) => {
  reply.header('content-type', 'application/json; charset=utf-8').send(body)
})

const l1 = await moolahApp(`${prefix}l1:`, load, ['flash'])
l1.app.get('/catalog', { config: { catalogCache: 'flash' } }, async () => ({}))

// One L1 slot and two catalogs requested in turn: every request evicts the other, so each is an L2 hit
const l2 = await moolahApp(`${prefix}l2:`, load, ['flash', 'flash2'], { l1MaxEntries: 1 })
let turn = 0
l2.app.get(
  '/catalog',
  { config: { catalogCache: () => ((turn++ & 1) === 0 ? 'flash' : 'flash2') } },
  async () => ({})
)

const bento = bentoCache(`${prefix}bento`)
const bentoApp = Fastify()
bentoApp.get('/catalog', () => bento.getOrSet({ key: 'catalog', factory: load, ttl: '1h' }))

const dedupe = dedupeCache(`${prefix}dedupe:`, load)
const dedupeApp = Fastify()
dedupeApp.get('/catalog', () => dedupe.cache.catalog('flash'))

const ports = {
  bare: await listen(bare),
  l1: await listen(l1.app),
  l2: await listen(l2.app),
  bentocache: await listen(bentoApp),
  'async-cache-dedupe': await listen(dedupeApp)
}
const etag = (await l1.app.catalogCache.get('flash')).etag
await l2.app.catalogCache.get('flash')
await l2.app.catalogCache.get('flash2')
process.stdout.write(`${JSON.stringify({ ports, etag, bytes: body.length })}\n`)
