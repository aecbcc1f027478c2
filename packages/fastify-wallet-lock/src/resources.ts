/**
 * One id or several → sorted, without duplicates. Every process sorts the same way
 * (UTF-16 code units), so two acquisitions never wait for each other in opposite orders.
 */
export function normalizeResources(resources: string | readonly string[]): string[] {
  if (typeof resources === 'string' && resources !== '') return [resources] // the common case, without a Set and a sort
  const list = typeof resources === 'string' ? [resources] : resources
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('wallet-lock: resources must be a non-empty string or a non-empty array of them')
  for (const resource of list) {
    if (typeof resource !== 'string' || resource === '') throw new TypeError(`wallet-lock: every resource must be a non-empty string, got ${JSON.stringify(resource)}`)
  }
  return [...new Set(list)].sort()
}
