import type { Catalog } from '../catalogs/catalog-store.js'
import type { Product } from '../catalogs/feed.js'
import { InvalidAmount, ProductNotFound } from '../errors.js'
import { checkRecipient } from './recipient.js'

/** What a purchase will record: the product, priced at the catalog version being served. */
export interface PricedPurchase {
  productId: string
  catalogVersion: string
  amount: number
  currency: string
  recipient: string | null
}

export interface PurchaseAsked {
  productId: string
  amount?: number | undefined
  recipient?: string | undefined
}

/** The products of each cached catalog version by id, built once per version (the cache's values are frozen and shared). */
const productIndexes = new WeakMap<Catalog, Map<string, Product>>()

function productsOf(catalog: Catalog): Map<string, Product> {
  let index = productIndexes.get(catalog)
  if (index === undefined) {
    index = new Map(catalog.products.map((product) => [product.id, product]))
    productIndexes.set(catalog, index)
  }
  return index
}

/**
 * Prices a purchase from the catalog being served, in memory: the product must be in it, a
 * fixed-price product takes no amount or exactly its own, a ranged one an amount inside its
 * range, and the recipient must suit the product's category.
 */
export function pricePurchase(catalog: Catalog, asked: PurchaseAsked): PricedPurchase {
  const product = productsOf(catalog).get(asked.productId)
  if (product === undefined) throw new ProductNotFound(catalog.provider, catalog.version, asked.productId)
  const amount = amountOf(product, asked.amount)
  const recipient = checkRecipient(product.category, asked.recipient)
  return {
    productId: product.id,
    catalogVersion: catalog.version,
    amount,
    currency: product.currency,
    recipient
  }
}

function amountOf(product: Product, asked: number | undefined): number {
  if (product.amount !== undefined) {
    if (asked !== undefined && asked !== product.amount)
      throw new InvalidAmount(
        `Product ${product.id} costs exactly ${product.amount}; leave amount out or send that`
      )
    return product.amount
  }
  // The feed validation gives every product either an amount or both bounds.
  const min = product.minAmount as number
  const max = product.maxAmount as number
  if (asked === undefined || asked < min || asked > max)
    throw new InvalidAmount(`Product ${product.id} needs an amount from ${min} to ${max}`)
  return asked
}
