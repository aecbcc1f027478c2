import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PROVIDERS = ['flash', 'easypay'] as const
export type Provider = (typeof PROVIDERS)[number]

export function isProvider(value: unknown): value is Provider {
  return (PROVIDERS as readonly unknown[]).includes(value)
}

/**
 * One purchasable product. Amounts are minor units (cents): a fixed `amount`, or a
 * `minAmount`–`maxAmount` range the buyer picks from. Provider-specific fields
 * (network, brand, validityDays, …) pass through untouched.
 */
export interface Product {
  id: string
  name: string
  category: string
  currency: string
  amount?: number
  minAmount?: number
  maxAmount?: number
  /** EasyPay municipalities only. */
  province?: string
  [field: string]: unknown
}

export interface CatalogFeed {
  provider: Provider
  version: string
  products: Product[]
}

/** The sample feeds shipped with the app; `../../` is the app root from both src/catalogs and dist/catalogs. */
export const DEFAULT_CATALOG_SOURCE_DIR = fileURLToPath(new URL('../../catalog-feeds', import.meta.url))

/** Bounds a feed so a runaway export cannot fill the database or the caches. */
export const MAX_PRODUCTS = 10_000
const MAX_VERSION_LENGTH = 64
/** Ids travel in URLs and purchase requests, so they stay short and plain. */
const PRODUCT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const CURRENCY = /^[A-Z]{3}$/
/** Enough to act on without flooding a log line or an error response. */
const MAX_REPORTED_PROBLEMS = 10

export class CatalogFeedError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
    options?: ErrorOptions
  ) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS)
    const more = problems.length - shown.length
    super(`Catalog feed ${file}: ${shown.join('; ')}${more > 0 ? `; and ${more} more` : ''}`, options)
    this.name = 'CatalogFeedError'
  }
}

/**
 * Reads `<sourceDir>/<provider>.json` and validates all of it, so a bad feed is refused
 * as a whole before anything is stored. Throws CatalogFeedError naming every problem.
 */
export async function readFeed(
  provider: Provider,
  sourceDir: string = DEFAULT_CATALOG_SOURCE_DIR
): Promise<CatalogFeed> {
  const file = join(sourceDir, `${provider}.json`)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const problem =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(err as Error).message})`
    throw new CatalogFeedError(file, [problem], { cause: err })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new CatalogFeedError(file, [`is not valid JSON (${(err as Error).message})`], { cause: err })
  }
  const problems = feedProblems(parsed, provider)
  if (problems.length > 0) throw new CatalogFeedError(file, problems)
  const feed = parsed as CatalogFeed
  return { provider, version: feed.version, products: feed.products }
}

function feedProblems(feed: unknown, provider: Provider): string[] {
  if (!isObject(feed)) return ['the feed must be a JSON object']
  const problems: string[] = []
  if (feed.provider !== provider)
    problems.push(`provider must be "${provider}", got ${JSON.stringify(feed.provider)}`)
  if (!isText(feed.version, MAX_VERSION_LENGTH))
    problems.push(`version must be a non-empty string of at most ${MAX_VERSION_LENGTH} characters`)
  const products = feed.products
  if (!Array.isArray(products) || products.length === 0) {
    problems.push('products must be a non-empty array')
  } else if (products.length > MAX_PRODUCTS) {
    problems.push(`products must hold at most ${MAX_PRODUCTS} items, got ${products.length}`)
  } else {
    const firstIndexById = new Map<unknown, number>()
    products.forEach((product: unknown, index) => {
      problems.push(...productProblems(product, provider).map((problem) => `products[${index}]${problem}`))
      if (!isObject(product) || typeof product.id !== 'string') return
      const first = firstIndexById.get(product.id)
      if (first === undefined) firstIndexById.set(product.id, index)
      else problems.push(`products[${index}].id "${product.id}" repeats products[${first}].id`)
    })
  }
  return problems
}

/** Problems of one product, each starting with the path below `products[i]`. */
function productProblems(product: unknown, provider: Provider): string[] {
  if (!isObject(product)) return [' must be an object']
  const problems: string[] = []
  if (typeof product.id !== 'string' || !PRODUCT_ID.test(product.id)) {
    problems.push('.id must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit')
  }
  if (!isText(product.name, 200)) problems.push('.name must be a non-empty string of at most 200 characters')
  if (!isText(product.category, 64))
    problems.push('.category must be a non-empty string of at most 64 characters')
  if (typeof product.currency !== 'string' || !CURRENCY.test(product.currency))
    problems.push('.currency must be an ISO 4217 code such as "ZAR"')
  if (provider === 'easypay' && !isText(product.province, 64))
    problems.push('.province must be a non-empty string of at most 64 characters')
  problems.push(...amountProblems(product))
  return problems
}

function amountProblems(product: Record<string, unknown>): string[] {
  const { amount, minAmount, maxAmount } = product
  const hasRange = minAmount !== undefined || maxAmount !== undefined
  if (amount !== undefined) {
    if (hasRange) return [' must have either amount or minAmount and maxAmount, not both']
    return isMinorUnits(amount) ? [] : ['.amount must be a positive integer (minor units)']
  }
  if (!hasRange) return [' must have either amount or minAmount and maxAmount']
  const problems: string[] = []
  if (!isMinorUnits(minAmount)) problems.push('.minAmount must be a positive integer (minor units)')
  if (!isMinorUnits(maxAmount)) problems.push('.maxAmount must be a positive integer (minor units)')
  if (problems.length === 0 && (minAmount as number) > (maxAmount as number))
    problems.push('.minAmount must not exceed maxAmount')
  return problems
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isText(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= maxLength
}

function isMinorUnits(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0
}
