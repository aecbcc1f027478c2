// The fields the contract (payments-api.md) gives each resource, sorted: what response bodies and
// the OpenAPI document's schemas must both carry, exactly.

export const WALLET_FIELDS = ['balance', 'createdAt', 'currency', 'id', 'ownerId']

export const TRANSFER_FIELDS = [
  'amount',
  'createdAt',
  'currency',
  'fromWalletId',
  'id',
  'reference',
  'status',
  'toWalletId'
]
