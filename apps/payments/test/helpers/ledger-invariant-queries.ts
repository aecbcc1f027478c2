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
      SELECT coalesce(transfer_id, deposit_id, purchase_id) AS movement, kind FROM journal_entries
      GROUP BY coalesce(transfer_id, deposit_id, purchase_id), kind
      HAVING count(*) <> 2 OR count(*) FILTER (WHERE direction = 'debit') <> 1 OR min(amount) <> max(amount)`
  },
  {
    name: 'every purchase debited its wallet once for its amount, and credited its settlement account',
    query: `
      SELECT p.id FROM purchases p
      LEFT JOIN journal_entries j ON j.purchase_id = p.id AND j.kind = 'purchase'
      GROUP BY p.id, p.wallet_id, p.settlement_wallet_id, p.amount
      HAVING count(*) FILTER (WHERE j.direction = 'debit' AND j.wallet_id = p.wallet_id AND j.amount = p.amount) <> 1
        OR count(*) FILTER (WHERE j.direction = 'credit' AND j.wallet_id = p.settlement_wallet_id AND j.amount = p.amount) <> 1`
  },
  {
    name: 'every failed purchase is refunded exactly once, and no other is refunded',
    query: `
      SELECT p.id, p.status FROM purchases p
      LEFT JOIN journal_entries j ON j.purchase_id = p.id AND j.kind = 'refund'
      GROUP BY p.id, p.status, p.wallet_id, p.amount
      HAVING count(j.seq) <> CASE p.status WHEN 'failed' THEN 2 ELSE 0 END
        OR count(*) FILTER (WHERE j.direction = 'credit' AND j.wallet_id = p.wallet_id AND j.amount = p.amount) <> CASE p.status WHEN 'failed' THEN 1 ELSE 0 END`
  },
  {
    name: 'every completed purchase has one fulfilment, and only completed ones have one',
    query: `
      SELECT id FROM purchases WHERE CASE WHEN status = 'completed'
        THEN fulfilment IS NULL OR jsonb_typeof(fulfilment) <> 'object' OR fulfilment = '{}'::jsonb
        ELSE fulfilment IS NOT NULL END`
  },
  {
    name: 'a settlement account holds exactly the purchases not failed (pending and completed)',
    query: `
      SELECT w.id FROM wallets w
      LEFT JOIN purchases p ON p.settlement_wallet_id = w.id AND p.status <> 'failed'
      WHERE w.kind = 'settlement'
      GROUP BY w.id, w.balance
      HAVING w.balance <> coalesce(sum(p.amount), 0)`
  }
]
