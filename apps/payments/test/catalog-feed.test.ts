import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '@moolah/test-utils'
import t from 'tap'
import {
  CatalogFeedError,
  DEFAULT_CATALOG_SOURCE_DIR,
  MAX_PRODUCTS,
  PROVIDERS,
  isProvider,
  readFeed,
  type Provider
} from '../src/catalogs/feed.js'
import { tempDataDir } from './helpers/app.js'

const fixed = {
  id: 'flash-mtn-airtime-30',
  name: 'MTN airtime R30',
  category: 'airtime',
  network: 'MTN',
  currency: 'ZAR',
  amount: 3000
}
const ranged = {
  id: 'flash-1voucher-any',
  name: '1Voucher, any amount',
  category: '1voucher',
  currency: 'ZAR',
  minAmount: 1000,
  maxAmount: 300_000
}
const municipality = {
  id: 'easypay-electricity-george',
  name: 'George',
  category: 'electricity',
  province: 'Western Cape',
  currency: 'ZAR',
  minAmount: 1000,
  maxAmount: 200_000
}

/** Writes `<dir>/<provider>.json` in a fresh temp dir: an object as JSON, a string as is. */
async function feedDir(t: Teardown, provider: Provider, content: unknown): Promise<string> {
  const dir = await tempDataDir(t)
  await writeFile(
    join(dir, `${provider}.json`),
    typeof content === 'string' ? content : JSON.stringify(content)
  )
  return dir
}

async function refusal(provider: Provider, dir: string): Promise<unknown> {
  return readFeed(provider, dir).then(
    () => 'accepted',
    (err: unknown) => err
  )
}

t.test("the bundled feeds live in the app's catalog-feeds folder", async (t) => {
  t.equal(DEFAULT_CATALOG_SOURCE_DIR, fileURLToPath(new URL('../catalog-feeds', import.meta.url)))
})

t.test(
  'the bundled Flash feed: airtime and data for every network, 1Voucher and gift vouchers, in cents',
  async (t) => {
    const feed = await readFeed('flash')
    t.equal(feed.provider, 'flash')
    t.ok(feed.products.length >= 60 && feed.products.length <= 120, `${feed.products.length} products`)
    t.same(
      new Set(feed.products.map((p) => p.category)),
      new Set(['airtime', 'data', '1voucher', 'gift-voucher'])
    )
    for (const network of ['Vodacom', 'MTN', 'Cell C', 'Telkom']) {
      for (const category of ['airtime', 'data']) {
        t.ok(
          feed.products.some((p) => p.network === network && p.category === category),
          `${network} ${category}`
        )
      }
    }
    const giftSegments = new Set(
      feed.products.filter((p) => p.category === 'gift-voucher').map((p) => p.segment)
    )
    t.same(giftSegments, new Set(['retail', 'gaming', 'streaming']))
    t.ok(
      feed.products.some((p) => p.amount !== undefined),
      'fixed denominations'
    )
    t.ok(
      feed.products.some((p) => p.minAmount !== undefined),
      'ranges'
    )
    t.ok(
      feed.products.every((p) => p.currency === 'ZAR' && p.id.startsWith('flash-')),
      'invented flash- ids, all in ZAR'
    )
  }
)

t.test('the bundled EasyPay feed: electricity for municipalities of all nine provinces', async (t) => {
  const feed = await readFeed('easypay')
  t.equal(feed.provider, 'easypay')
  t.ok(feed.products.length >= 40 && feed.products.length <= 80, `${feed.products.length} municipalities`)
  t.same(
    new Set(feed.products.map((p) => p.province)),
    new Set([
      'Eastern Cape',
      'Free State',
      'Gauteng',
      'KwaZulu-Natal',
      'Limpopo',
      'Mpumalanga',
      'North West',
      'Northern Cape',
      'Western Cape'
    ])
  )
  t.ok(
    feed.products.every(
      (p) =>
        p.category === 'electricity' &&
        p.currency === 'ZAR' &&
        p.minAmount !== undefined &&
        p.id.startsWith('easypay-')
    )
  )
})

t.test('isProvider knows exactly the providers', async (t) => {
  t.same(PROVIDERS, ['flash', 'easypay'])
  for (const provider of PROVIDERS) t.ok(isProvider(provider), provider)
  for (const other of ['Flash', 'eskom', '', undefined, 1]) t.notOk(isProvider(other), String(other))
})

t.test('a feed from another directory is read as written, provider-specific fields kept', async (t) => {
  const dir = await feedDir(t, 'flash', {
    provider: 'flash',
    version: '2026-12-01',
    products: [fixed, ranged],
    generatedBy: 'export job'
  })
  t.same(await readFeed('flash', dir), {
    provider: 'flash',
    version: '2026-12-01',
    products: [fixed, ranged]
  })
  const easypayDir = await feedDir(t, 'easypay', {
    provider: 'easypay',
    version: 'v7',
    products: [municipality]
  })
  t.same(await readFeed('easypay', easypayDir), {
    provider: 'easypay',
    version: 'v7',
    products: [municipality]
  })
})

t.test('a missing feed names its file', async (t) => {
  const dir = await tempDataDir(t)
  const error = await refusal('easypay', dir)
  t.type(error, CatalogFeedError)
  t.match(error, { name: 'CatalogFeedError', file: join(dir, 'easypay.json'), problems: ['does not exist'] })
  t.equal((error as Error).message, `Catalog feed ${join(dir, 'easypay.json')}: does not exist`)
})

t.test('an unreadable feed says why', async (t) => {
  const dir = await tempDataDir(t)
  await mkdir(join(dir, 'flash.json'))
  t.match(await refusal('flash', dir), { problems: [/^cannot be read \(EISDIR/] })
})

t.test("a feed that is not JSON is refused with the parser's complaint", async (t) => {
  const dir = await feedDir(t, 'flash', '{"provider": "flash", ')
  const error = await refusal('flash', dir)
  t.type(error, CatalogFeedError)
  t.match(error, { problems: [/^is not valid JSON \(.+\)$/], cause: SyntaxError })
})

t.test('every rule names the offending field', async (t) => {
  const flash = (products: unknown[], extra: Record<string, unknown> = {}) => ({
    provider: 'flash',
    version: '1',
    products,
    ...extra
  })
  const product = (changes: Record<string, unknown>) => ({ ...fixed, ...changes })
  const cases: Array<[string, Provider, unknown, string]> = [
    ['an array', 'flash', [fixed], 'the feed must be a JSON object'],
    ['null', 'flash', null, 'the feed must be a JSON object'],
    [
      "another provider's feed",
      'flash',
      { ...flash([fixed]), provider: 'easypay' },
      'provider must be "flash", got "easypay"'
    ],
    [
      'no provider',
      'easypay',
      { version: '1', products: [municipality] },
      'provider must be "easypay", got undefined'
    ],
    [
      'no version',
      'flash',
      { provider: 'flash', products: [fixed] },
      'version must be a non-empty string of at most 64 characters'
    ],
    [
      'a blank version',
      'flash',
      flash([fixed], { version: '  ' }),
      'version must be a non-empty string of at most 64 characters'
    ],
    [
      'a numeric version',
      'flash',
      flash([fixed], { version: 3 }),
      'version must be a non-empty string of at most 64 characters'
    ],
    [
      'an overlong version',
      'flash',
      flash([fixed], { version: 'v'.repeat(65) }),
      'version must be a non-empty string of at most 64 characters'
    ],
    ['no products', 'flash', { provider: 'flash', version: '1' }, 'products must be a non-empty array'],
    ['an empty product list', 'flash', flash([]), 'products must be a non-empty array'],
    [
      'products as an object',
      'flash',
      flash([], { products: { a: fixed } }),
      'products must be a non-empty array'
    ],
    [
      'too many products',
      'flash',
      flash(Array.from({ length: MAX_PRODUCTS + 1 }, (_, i) => product({ id: `p${i}` }))),
      `products must hold at most ${MAX_PRODUCTS} items, got ${MAX_PRODUCTS + 1}`
    ],
    ['a product that is a string', 'flash', flash([fixed, 'x']), 'products[1] must be an object'],
    ['a product that is null', 'flash', flash([null]), 'products[0] must be an object'],
    [
      'no id',
      'flash',
      flash([product({ id: undefined })]),
      'products[0].id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit'
    ],
    [
      'a numeric id',
      'flash',
      flash([product({ id: 7 })]),
      'products[0].id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit'
    ],
    [
      'an id with a space',
      'flash',
      flash([product({ id: 'mtn 30' })]),
      'products[0].id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit'
    ],
    [
      'an id starting with a dash',
      'flash',
      flash([product({ id: '-mtn' })]),
      'products[0].id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit'
    ],
    [
      'an overlong id',
      'flash',
      flash([product({ id: 'a'.repeat(129) })]),
      'products[0].id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit'
    ],
    [
      'a repeated id',
      'flash',
      flash([fixed, ranged, { ...ranged, id: fixed.id }]),
      'products[2].id "flash-mtn-airtime-30" repeats products[0].id'
    ],
    [
      'no name',
      'flash',
      flash([product({ name: undefined })]),
      'products[0].name must be a non-empty string of at most 200 characters'
    ],
    [
      'an empty name',
      'flash',
      flash([product({ name: '' })]),
      'products[0].name must be a non-empty string of at most 200 characters'
    ],
    [
      'an overlong name',
      'flash',
      flash([product({ name: 'n'.repeat(201) })]),
      'products[0].name must be a non-empty string of at most 200 characters'
    ],
    [
      'no category',
      'flash',
      flash([product({ category: undefined })]),
      'products[0].category must be a non-empty string of at most 64 characters'
    ],
    [
      'a lower-case currency',
      'flash',
      flash([product({ currency: 'zar' })]),
      'products[0].currency must be an ISO 4217 code such as "ZAR"'
    ],
    [
      'a two-letter currency',
      'flash',
      flash([product({ currency: 'ZA' })]),
      'products[0].currency must be an ISO 4217 code such as "ZAR"'
    ],
    [
      'no currency',
      'flash',
      flash([product({ currency: undefined })]),
      'products[0].currency must be an ISO 4217 code such as "ZAR"'
    ],
    [
      'a zero amount',
      'flash',
      flash([product({ amount: 0 })]),
      'products[0].amount must be a positive integer (minor units)'
    ],
    [
      'a negative amount',
      'flash',
      flash([product({ amount: -500 })]),
      'products[0].amount must be a positive integer (minor units)'
    ],
    [
      'a fractional amount',
      'flash',
      flash([product({ amount: 29.99 })]),
      'products[0].amount must be a positive integer (minor units)'
    ],
    [
      'an amount as a string',
      'flash',
      flash([product({ amount: '3000' })]),
      'products[0].amount must be a positive integer (minor units)'
    ],
    [
      'an amount beyond safe integers',
      'flash',
      flash([product({ amount: 2 ** 53 })]),
      'products[0].amount must be a positive integer (minor units)'
    ],
    [
      'an amount and a range',
      'flash',
      flash([product({ minAmount: 100, maxAmount: 500 })]),
      'products[0] must have either amount or minAmount and maxAmount, not both'
    ],
    [
      'an amount and a maximum',
      'flash',
      flash([product({ maxAmount: 500 })]),
      'products[0] must have either amount or minAmount and maxAmount, not both'
    ],
    [
      'no amount at all',
      'flash',
      flash([product({ amount: undefined })]),
      'products[0] must have either amount or minAmount and maxAmount'
    ],
    [
      'a minimum without a maximum',
      'flash',
      flash([{ ...ranged, maxAmount: undefined }]),
      'products[0].maxAmount must be a positive integer (minor units)'
    ],
    [
      'a zero minimum',
      'flash',
      flash([{ ...ranged, minAmount: 0 }]),
      'products[0].minAmount must be a positive integer (minor units)'
    ],
    [
      'a minimum above the maximum',
      'flash',
      flash([{ ...ranged, minAmount: 5000, maxAmount: 4999 }]),
      'products[0].minAmount must not exceed maxAmount'
    ],
    [
      'a municipality without a province',
      'easypay',
      { provider: 'easypay', version: '1', products: [{ ...municipality, province: undefined }] },
      'products[0].province must be a non-empty string of at most 64 characters'
    ],
    [
      'a municipality with a blank province',
      'easypay',
      { provider: 'easypay', version: '1', products: [{ ...municipality, province: ' ' }] },
      'products[0].province must be a non-empty string of at most 64 characters'
    ]
  ]
  for (const [name, provider, content, problem] of cases) {
    const dir = await feedDir(t, provider, content)
    const error = await refusal(provider, dir)
    t.type(error, CatalogFeedError, name)
    t.same((error as CatalogFeedError).problems, [problem], name)
    t.equal(
      (error as Error).message,
      `Catalog feed ${join(dir, `${provider}.json`)}: ${problem}`,
      `${name}: message`
    )
  }
})

t.test('every problem is listed, the message shows the first ten', async (t) => {
  const dir = await feedDir(t, 'flash', {
    provider: 'flash',
    version: '1',
    products: Array.from({ length: 12 }, (_, i) => ({ ...fixed, id: `p${i}`, amount: -1 }))
  })
  const error = (await refusal('flash', dir)) as CatalogFeedError
  t.equal(error.problems.length, 12)
  t.match(error.message, /products\[9\]\.amount must be a positive integer \(minor units\); and 2 more$/)
  t.notMatch(error.message, /products\[10\]/)
})
