import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { catalogCache, MemoryCatalogCacheStore, type CatalogCacheOptions } from '../src/index.js'

// What a Postgres timeout looks like through drizzle: the SQL and its parameters in the message.
const SECRET = 'SELECT secret FROM x'
const queryFailed = () => new Error(`Failed query: ${SECRET} params: 42`)

/** An app logging to `logged`, with a catalog route and a handler using reply.catalog(). */
async function observedApp(t: Test, options: CatalogCacheOptions = {}) {
  const logged: Array<Record<string, unknown>> = []
  const app = Fastify({
    logger: {
      level: 'warn',
      stream: {
        write: (line: string) => {
          logged.push(JSON.parse(line) as Record<string, unknown>)
        }
      }
    }
  })
  t.teardown(() => app.close())
  await app.register(catalogCache, options)
  app.catalogCache.define('flash', {
    load: () => {
      throw queryFailed()
    }
  })
  app.get('/catalog', { config: { catalogCache: 'flash' } }, async () => ({ never: 'runs' }))
  app.get('/by-handler', async (_request, reply) => reply.catalog('flash'))
  return { app, logged }
}

const mentionsSecret = (text: string) =>
  text.includes(SECRET) || text.includes('Failed query') || text.includes('params:')

t.test(
  'a failing loader is a 503 with a fixed message: its error is logged and kept as the cause, never sent',
  async (t) => {
    const { app, logged } = await observedApp(t)
    for (const url of ['/catalog', '/by-handler']) {
      const response = await app.inject(url)
      t.equal(response.statusCode, 503, url)
      t.match(response.headers['retry-after'], /^\d+$/)
      t.same(response.json(), {
        statusCode: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
        error: 'Service Unavailable',
        message: "Catalog 'flash' is temporarily unavailable; retry shortly"
      })
      t.notOk(mentionsSecret(response.body), 'no SQL in the response')
    }
    await t.rejects(
      app.catalogCache.get('flash'),
      { code: 'DEPENDENCY_UNAVAILABLE', cause: { message: new RegExp(SECRET) } },
      'code reading the error still gets the cause'
    )
    const warning = logged.find(
      (line) => line.msg === "@moolah/fastify-catalog-cache: loading 'flash' failed"
    )
    t.equal(warning?.level, 40, 'the load failure is logged at warn')
    t.ok(mentionsSecret(JSON.stringify(warning?.err)), 'with the error object')
  }
)

t.test('refresh() with a failing loader rejects with the same fixed message', async (t) => {
  const { app } = await observedApp(t)
  const error = await app.catalogCache.refresh('flash').then(
    () => new Error('resolved'),
    (error: unknown) => error as Error
  )
  t.match(error, { code: 'DEPENDENCY_UNAVAILABLE', cause: { message: new RegExp(SECRET) } })
  t.equal(error.message, "Catalog 'flash' is temporarily unavailable; retry shortly")
})

t.test(
  'a failing store makes invalidate() reject with a fixed message; the store error is logged and is the cause',
  async (t) => {
    class BrokenStore extends MemoryCatalogCacheStore {
      override async invalidate(): Promise<number> {
        throw queryFailed()
      }
    }
    const { app, logged } = await observedApp(t, { store: new BrokenStore() })
    const error = await app.catalogCache.invalidate('flash').then(
      () => new Error('resolved'),
      (error: unknown) => error as Error
    )
    t.match(error, {
      code: 'DEPENDENCY_UNAVAILABLE',
      retryAfter: 1,
      cause: { cause: { message: new RegExp(SECRET) } }
    })
    t.equal(error.message, 'Catalog cache store is unavailable; the change was applied to this instance only')
    const warning = logged.find(
      (line) =>
        line.msg ===
        '@moolah/fastify-catalog-cache: invalidate could not update the store; the change was applied to this instance only'
    )
    t.equal(warning?.level, 40)
    t.ok(mentionsSecret(JSON.stringify(warning?.err)), 'logged with the error and its cause')
  }
)
