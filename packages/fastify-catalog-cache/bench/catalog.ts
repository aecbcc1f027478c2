/** A provider catalog of about 30 KB, the size the issue benchmarks. */
export function buildCatalog(version = 1): {
  provider: string
  version: number
  updatedAt: string
  products: Array<Record<string, unknown>>
} {
  return {
    provider: 'flash',
    version,
    updatedAt: '2026-01-01T00:00:00.000Z',
    products: Array.from({ length: 250 }, (_, i) => ({
      id: `flash-${i}`,
      name: `Airtime voucher ${i}`,
      category: i % 2 === 0 ? 'airtime' : 'data',
      currency: 'ZAR',
      minAmount: 500,
      maxAmount: 100_000 + i
    }))
  }
}
