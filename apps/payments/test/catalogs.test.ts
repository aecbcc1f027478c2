import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshDatabase, redisPrefix, waitUntil, type Teardown } from '@moolah/test-utils'
import { sql } from 'drizzle-orm'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { Api } from './helpers/api.js'
import { ADMIN_TOKEN, startApp, tempDataDir } from './helpers/app.js'

// The catalog endpoints, black-box: body shape, HTTP caching headers, conditional requests,
// refresh from CATALOG_SOURCE_DIR and its propagation to every instance, broken feeds.

const BUNDLED = fileURLToPath(new URL('../catalog-feeds/', import.meta.url))
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const STRONG_ETAG = /^"[\x21\x23-\x7e]+"$/

interface Feed {
  provider: string
  version: string
  products: Array<Record<string, unknown>>
}

async function bundledFeed(provider: 'flash' | 'easypay'): Promise<Feed> {
  return JSON.parse(await readFile(join(BUNDLED, `${provider}.json`), 'utf8')) as Feed
}

/** A private copy of the bundled feeds, to edit and break; removed at teardown. */
async function feedDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'moolah-feeds-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await copyFile(join(BUNDLED, 'flash.json'), join(dir, 'flash.json'))
  await copyFile(join(BUNDLED, 'easypay.json'), join(dir, 'easypay.json'))
  return dir
}

async function writeFlash(
  dir: string,
  version: string,
  extra: Array<Record<string, unknown>> = []
): Promise<Feed> {
  const feed = await bundledFeed('flash')
  const changed = { ...feed, version, products: [...feed.products, ...extra] }
  await writeFile(join(dir, 'flash.json'), JSON.stringify(changed, null, 2))
  return changed
}

async function serverEnv(t: Teardown, sourceDir?: string): Promise<Record<string, string>> {
  const { prefix, url } = redisPrefix(t)
  return {
    DATABASE_URL: await freshDatabase(t),
    REDIS_URL: url,
    REDIS_KEY_PREFIX: prefix,
    ...(sourceDir === undefined ? {} : { CATALOG_SOURCE_DIR: sourceDir })
  }
}

/** Refreshes as the operator, or with `token` (null: no credentials at all). */
const refresh = (app: FastifyInstance, provider: string, token: string | null = ADMIN_TOKEN) =>
  app.inject({
    method: 'POST',
    url: `/v1/catalog/${provider}/refresh`,
    headers: token === null ? {} : { authorization: `Bearer ${token}` }
  })

const versionOf = async (app: FastifyInstance, provider = 'flash'): Promise<string> =>
  (await app.inject(`/v1/catalog/${provider}`)).json().version

function assertProblem(
  t: Test,
  response: LightMyRequestResponse,
  status: number,
  code: string,
  what: string
): void {
  t.equal(response.statusCode, status, `${what}: ${status}`)
  t.match(response.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`)
  t.match(response.json(), { type: String, title: String, status, detail: String, code }, `${what}: ${code}`)
}

function assertCachingHeaders(t: Test, response: LightMyRequestResponse, what: string): void {
  t.match(response.headers.etag, STRONG_ETAG, `${what}: a strong ETag`)
  const cacheControl = String(response.headers['cache-control'])
  t.match(cacheControl, /(^|,\s*)public(\s*,|$)/, `${what}: public`)
  const seconds = (directive: string) =>
    Number(new RegExp(`(?:^|,\\s*)${directive}=(\\d+)`).exec(cacheControl)?.[1] ?? Number.NaN)
  t.ok(seconds('max-age') > 0, `${what}: max-age (${cacheControl})`)
  t.ok(seconds('stale-while-revalidate') > 0, `${what}: stale-while-revalidate`)
  t.ok(seconds('stale-if-error') > 0, `${what}: stale-if-error`)
  t.match(
    response.headers['cache-status'],
    /^[A-Za-z][\w.-]*; (hit|fwd=(miss|stale))/,
    `${what}: Cache-Status (RFC 9211)`
  )
}

t.test('GET /v1/catalog/:provider', async (t) => {
  const app = await startApp(t, await serverEnv(t))

  for (const provider of ['flash', 'easypay'] as const) {
    t.test(provider, async (t) => {
      const feed = await bundledFeed(provider)
      const response = await app.inject(`/v1/catalog/${provider}`)
      t.equal(response.statusCode, 200)
      t.match(response.headers['content-type'], /^application\/json/)
      const catalog = response.json()
      t.same(Object.keys(catalog).sort(), ['products', 'provider', 'updatedAt', 'version'])
      t.match(catalog, { provider, version: feed.version, updatedAt: RFC_3339 })
      t.equal(catalog.products.length, feed.products.length, 'every product of the feed')
      t.same(
        catalog.products.map((p: { id: string }) => p.id),
        feed.products.map((p) => p.id),
        'in feed order'
      )
      for (const product of catalog.products as Array<Record<string, unknown>>) {
        const label = `product ${String(product.id)}`
        t.match(product, { id: String, name: String, category: String, currency: /^[A-Z]{3}$/ }, label)
        const fixed = product.amount !== undefined
        if (fixed) {
          t.ok(
            Number.isSafeInteger(product.amount) && (product.amount as number) > 0,
            `${label}: amount in minor units`
          )
          t.notOk('minAmount' in product || 'maxAmount' in product, `${label}: amount or a range, not both`)
        } else {
          t.ok(
            Number.isSafeInteger(product.minAmount) && Number.isSafeInteger(product.maxAmount),
            `${label}: minAmount/maxAmount`
          )
          t.ok(
            (product.minAmount as number) > 0 &&
              (product.minAmount as number) <= (product.maxAmount as number),
            `${label}: a sane range`
          )
        }
        if (provider === 'easypay')
          t.match(product, { province: String }, `${label}: a municipality has a province`)
      }
      t.same(catalog.products, feed.products, 'provider-specific fields pass through untouched')
      assertCachingHeaders(t, response, 'first GET')

      const again = await app.inject(`/v1/catalog/${provider}`)
      t.equal(again.statusCode, 200)
      t.equal(again.body, response.body, 'the same bytes')
      t.equal(again.headers.etag, response.headers.etag, 'the same ETag for the same body')
      t.match(again.headers['cache-status'], /; hit/, 'the second GET is a cache hit')
      assertCachingHeaders(t, again, 'second GET')
    })
  }

  t.test('the two catalogs have different ETags', async (t) => {
    const flash = await app.inject('/v1/catalog/flash')
    const easypay = await app.inject('/v1/catalog/easypay')
    t.not(flash.headers.etag, easypay.headers.etag)
  })

  t.test('If-None-Match with the current ETag is 304 with an empty body', async (t) => {
    const first = await app.inject('/v1/catalog/flash')
    const etag = first.headers.etag as string
    for (const header of [etag, `W/${etag}`, `"something-else", ${etag}`, '*']) {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/catalog/flash',
        headers: { 'if-none-match': header }
      })
      t.equal(response.statusCode, 304, `If-None-Match: ${header}`)
      t.equal(response.body, '', 'no body')
      t.equal(response.headers.etag, etag, 'the ETag is repeated')
      t.match(response.headers['cache-control'], /max-age=\d+/, 'and Cache-Control')
    }
    const stale = await app.inject({
      method: 'GET',
      url: '/v1/catalog/flash',
      headers: { 'if-none-match': '"an-old-version"' }
    })
    t.equal(stale.statusCode, 200, 'another ETag gets the catalog')
    t.equal(stale.body, first.body)
  })

  t.test('HEAD answers the headers without the body', async (t) => {
    const get = await app.inject('/v1/catalog/easypay')
    const head = await app.inject({ method: 'HEAD', url: '/v1/catalog/easypay' })
    t.equal(head.statusCode, 200)
    t.equal(head.body, '')
    t.match(head.headers['content-type'], /^application\/json/)
    t.equal(head.headers.etag, get.headers.etag)
    assertCachingHeaders(t, head, 'HEAD')
    const conditional = await app.inject({
      method: 'HEAD',
      url: '/v1/catalog/easypay',
      headers: { 'if-none-match': get.headers.etag as string }
    })
    t.equal(conditional.statusCode, 304)
  })

  t.test('an unknown provider is 404 NOT_FOUND', async (t) => {
    assertProblem(t, await app.inject('/v1/catalog/payfast'), 404, 'NOT_FOUND', 'GET unknown')
    assertProblem(t, await app.inject('/v1/catalog/FLASH'), 404, 'NOT_FOUND', 'GET with the wrong case')
    const head = await app.inject({ method: 'HEAD', url: '/v1/catalog/payfast' })
    t.equal(head.statusCode, 404, 'HEAD unknown')
    assertProblem(t, await app.inject('/v1/catalog/'), 404, 'NOT_FOUND', 'no provider')
  })

  t.test('catalogs are public: no credentials needed, a bad one does not matter', async (t) => {
    const response = await app.inject({
      method: 'GET',
      url: '/v1/catalog/flash',
      headers: { authorization: 'Bearer nonsense' }
    })
    t.equal(response.statusCode, 200)
  })
})

t.test('served from the cache, not from Postgres on every request', async (t) => {
  const app = await startApp(t, await serverEnv(t))
  const warm = await app.inject('/v1/catalog/flash')
  t.equal(warm.statusCode, 200)
  await app.database.db.execute(sql`DELETE FROM catalog_versions`)
  for (let i = 0; i < 3; i++) {
    const response = await app.inject('/v1/catalog/flash')
    t.equal(response.statusCode, 200, `request ${i + 1} after the rows are gone`)
    t.equal(response.body, warm.body)
  }
})

t.test('POST /v1/catalog/:provider/refresh', async (t) => {
  const dir = await feedDir(t)
  const app = await startApp(t, await serverEnv(t, dir))
  const api = new Api(app)
  const original = await bundledFeed('flash')

  t.test('operator only', async (t) => {
    const user = await api.createUser()
    assertProblem(t, await refresh(app, 'flash', null), 401, 'UNAUTHORIZED', 'no token')
    assertProblem(t, await refresh(app, 'flash', 'wrong-token-wrong-token'), 401, 'UNAUTHORIZED', 'bad token')
    assertProblem(t, await refresh(app, 'flash', user.apiKey), 403, 'FORBIDDEN', 'a user key')
  })

  t.test('an unknown provider is 404 NOT_FOUND', async (t) => {
    assertProblem(t, await refresh(app, 'payfast'), 404, 'NOT_FOUND', 'refresh unknown')
  })

  t.test('the same feed again: 200 with the same version', async (t) => {
    const response = await refresh(app, 'flash')
    t.equal(response.statusCode, 200)
    t.same(response.json(), { provider: 'flash', version: original.version, count: original.products.length })
  })

  t.test('a new version of the feed is served after the refresh', async (t) => {
    const before = await app.inject('/v1/catalog/flash')
    t.equal(before.json().version, original.version)
    const feed = await writeFlash(dir, 'test-2026-11-26.2', [
      {
        id: 'flash-test-voucher-77',
        name: 'Test voucher R77',
        category: 'voucher',
        currency: 'ZAR',
        amount: 7700
      }
    ])
    t.equal(await versionOf(app), original.version, 'nothing changes before the refresh')

    const response = await refresh(app, 'flash')
    t.equal(response.statusCode, 200)
    t.match(response.headers['content-type'], /^application\/json/)
    t.same(response.json(), { provider: 'flash', version: 'test-2026-11-26.2', count: feed.products.length })

    const after = await app.inject('/v1/catalog/flash')
    t.equal(after.statusCode, 200)
    t.equal(after.json().version, 'test-2026-11-26.2', 'the new version is served')
    t.same(after.json().products.at(-1), {
      id: 'flash-test-voucher-77',
      name: 'Test voucher R77',
      category: 'voucher',
      currency: 'ZAR',
      amount: 7700
    })
    t.ok(Date.parse(after.json().updatedAt) >= Date.parse(before.json().updatedAt), 'updatedAt moves on')
    t.not(after.headers.etag, before.headers.etag, 'a new ETag')
    const old = await app.inject({
      method: 'GET',
      url: '/v1/catalog/flash',
      headers: { 'if-none-match': before.headers.etag as string }
    })
    t.equal(old.statusCode, 200, 'the old ETag no longer matches')
    t.equal(
      await versionOf(app, 'easypay'),
      (await bundledFeed('easypay')).version,
      'the other provider is untouched'
    )
  })

  t.test('a broken feed is 502 CATALOG_FEED_UNAVAILABLE and the current version stays', async (t) => {
    const current = await app.inject('/v1/catalog/flash')
    const path = join(dir, 'flash.json')
    const broken = [
      { name: 'bad JSON', write: () => writeFile(path, '{"provider": "flash", "version": ') },
      {
        name: 'not a catalog',
        write: () => writeFile(path, JSON.stringify({ provider: 'flash', version: 'x' }))
      },
      {
        name: 'another provider',
        write: () => writeFile(path, JSON.stringify({ ...original, provider: 'easypay', version: 'x' }))
      },
      {
        name: 'a product with a float amount',
        write: () =>
          writeFile(
            path,
            JSON.stringify({
              ...original,
              version: 'x',
              products: [{ id: 'p', name: 'P', category: 'c', currency: 'ZAR', amount: 1.5 }]
            })
          )
      },
      { name: 'the file is missing', write: () => rm(path) }
    ]
    for (const { name, write } of broken) {
      await write()
      assertProblem(t, await refresh(app, 'flash'), 502, 'CATALOG_FEED_UNAVAILABLE', name)
      const served = await app.inject('/v1/catalog/flash')
      t.equal(served.statusCode, 200, `${name}: still served`)
      t.equal(served.body, current.body, `${name}: the same version`)
    }
    // Once the feed is fixed, a refresh works again.
    await writeFlash(dir, 'test-2026-11-26.3')
    const fixed = await refresh(app, 'flash')
    t.equal(fixed.statusCode, 200)
    t.equal(fixed.json().version, 'test-2026-11-26.3')
    t.equal(await versionOf(app), 'test-2026-11-26.3')
  })
})

t.test('a refresh on one instance reaches another within 1 s', async (t) => {
  const dir = await feedDir(t)
  const env = await serverEnv(t, dir)
  const a = await startApp(t, env)
  const b = await startApp(t, env)
  const original = await bundledFeed('flash')

  // Both instances hold the catalog in memory.
  t.equal(await versionOf(a), original.version)
  t.equal(await versionOf(b), original.version)
  t.match((await b.inject('/v1/catalog/flash')).headers['cache-status'], /; hit/, 'B serves from its cache')

  await writeFlash(dir, 'shared-2')
  const response = await refresh(a, 'flash')
  t.equal(response.statusCode, 200)
  t.equal(response.json().version, 'shared-2')
  const refreshedAt = Date.now()
  await waitUntil(
    async () => (await versionOf(b)) === 'shared-2',
    'instance B to serve the new version',
    1000,
    10
  )
  t.ok(Date.now() - refreshedAt < 1000, `B served the new version after ${Date.now() - refreshedAt} ms`)
  t.equal(await versionOf(a), 'shared-2', 'and A too')

  // And the other way round.
  await writeFlash(dir, 'shared-3')
  t.equal((await refresh(b, 'flash')).statusCode, 200)
  await waitUntil(
    async () => (await versionOf(a)) === 'shared-3',
    'instance A to serve the version refreshed on B',
    1000,
    10
  )

  // A broken feed on one instance changes nothing anywhere.
  await writeFile(join(dir, 'flash.json'), 'not json')
  t.equal((await refresh(a, 'flash')).statusCode, 502)
  t.equal(await versionOf(a), 'shared-3')
  t.equal(await versionOf(b), 'shared-3')
})

t.test('embedded mode (no URLs) serves catalogs', async (t) => {
  const app = await startApp(t, { DATA_DIR: await tempDataDir(t) })
  for (const provider of ['flash', 'easypay'] as const) {
    const response = await app.inject(`/v1/catalog/${provider}`)
    t.equal(response.statusCode, 200, provider)
    t.match(response.json(), {
      provider,
      version: (await bundledFeed(provider)).version,
      updatedAt: RFC_3339,
      products: Array
    })
    assertCachingHeaders(t, response, `embedded ${provider}`)
    const notModified = await app.inject({
      method: 'GET',
      url: `/v1/catalog/${provider}`,
      headers: { 'if-none-match': response.headers.etag as string }
    })
    t.equal(notModified.statusCode, 304)
  }
  const refreshed = await refresh(app, 'easypay')
  t.equal(refreshed.statusCode, 200)
  t.match(refreshed.json(), {
    provider: 'easypay',
    version: (await bundledFeed('easypay')).version,
    count: Number
  })
})
