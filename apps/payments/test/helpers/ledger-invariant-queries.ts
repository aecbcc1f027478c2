/**
 * The ledger invariants of the contract as SQL, shared by the tests (`checkLedger`) and the
 * benchmark (`bench/ledger-check.ts`). Each query returns the rows that break its invariant:
 * the ledger is sound when every query returns no row.
 */
export interface LedgerInvariant {
  /** What holds when the query returns nothing. */
  name: string
  query: string
}

export const LEDGER_INVARIANTS: readonly LedgerInvariant[] = [
  {
    name: 'all balances, system accounts included, sum to 0',
    query: 'SELECT sum(balance)::text AS total FROM wallets HAVING coalesce(sum(balance), 0) <> 0'
  },
  {
    name: 'no user wallet is negative',
    query: `SELECT id FROM wallets WHERE kind = 'user' AND balance < 0`
  },
  {
    name: 'every balance equals the sum of its journal lines',
    query: `
      SELECT w.id FROM wallets w
      LEFT JOIN journal_entries j ON j.wallet_id = w.id
      GROUP BY w.id, w.balance
      HAVING w.balance <> coalesce(sum(CASE j.direction WHEN 'credit' THEN j.amount ELSE -j.amount END), 0)`
  },
  {
    name: 'balance_after values chain without gaps',
    query: `
      SELECT wallet_id, seq FROM (
        SELECT wallet_id, seq, balance_after,
          coalesce(lag(balance_after) OVER (PARTITION BY wallet_id ORDER BY seq), 0)
            + CASE direction WHEN 'credit' THEN amount ELSE -amount END AS expected
        FROM journal_entries
      ) chained WHERE balance_after <> expected`
  },
  {
    name: 'every movement is one debit and one credit of the same amount',
    query: `
      SELECT coalesce(transfer_id, deposit_id) AS movement FROM journal_entries
      GROUP BY coalesce(transfer_id, deposit_id)
      HAVING count(*) <> 2 OR count(*) FILTER (WHERE direction = 'debit') <> 1 OR min(amount) <> max(amount)`
  }
]
