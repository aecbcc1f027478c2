import { sql } from 'drizzle-orm'
import type { Test } from 'tap'
import type { Db } from '../../src/db/database.js'


/**
 * The ledger invariants of the contract, checked with SQL over the whole database:
 * balances sum to zero, no user wallet is negative, every balance equals its journal lines,
 * balance_after values chain without gaps, and every movement has one debit and one credit.
 */
export async function checkLedger(t: Test, db: Db): Promise<void> {
  const rows = async (query: ReturnType<typeof sql>) => {
    const result = await db.execute(query)
    return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<Record<string, unknown>>
  }

  t.same(await rows(sql`SELECT coalesce(sum(balance), 0)::text AS total FROM wallets`), [{ total: '0' }], 'all balances, system accounts included, sum to 0')
  t.same(await rows(sql`SELECT id FROM wallets WHERE kind = 'user' AND balance < 0`), [], 'no user wallet is negative')
  t.same(await rows(sql`
    SELECT w.id FROM wallets w
    LEFT JOIN journal_entries j ON j.wallet_id = w.id
    GROUP BY w.id, w.balance
    HAVING w.balance <> coalesce(sum(CASE j.direction WHEN 'credit' THEN j.amount ELSE -j.amount END), 0)
  `), [], 'every balance equals the sum of its journal lines')
  t.same(await rows(sql`
    SELECT wallet_id, seq FROM (
      SELECT wallet_id, seq, balance_after,
        coalesce(lag(balance_after) OVER (PARTITION BY wallet_id ORDER BY seq), 0)
          + CASE direction WHEN 'credit' THEN amount ELSE -amount END AS expected
      FROM journal_entries
    ) chained WHERE balance_after <> expected
  `), [], 'balance_after values chain without gaps')
  t.same(await rows(sql`
    SELECT coalesce(transfer_id, deposit_id) AS movement FROM journal_entries
    GROUP BY coalesce(transfer_id, deposit_id)
    HAVING count(*) <> 2 OR count(*) FILTER (WHERE direction = 'debit') <> 1 OR min(amount) <> max(amount)
  `), [], 'every movement is one debit and one credit of the same amount')
}
