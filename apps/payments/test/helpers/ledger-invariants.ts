import { sql } from 'drizzle-orm'
import type { Test } from 'tap'
import type { Db } from '../../src/db/database.js'
import { LEDGER_INVARIANTS } from './ledger-invariant-queries.js'

/**
 * The ledger invariants of the contract, checked with SQL over the whole database:
 * balances sum to zero, no user wallet is negative, every balance equals its journal lines,
 * balance_after values chain without gaps, and every movement has one debit and one credit.
 * One assertion per invariant: the rows that break it, expected to be none.
 */
export async function checkLedger(t: Test, db: Db): Promise<void> {
  for (const invariant of LEDGER_INVARIANTS) {
    const result = await db.execute(sql.raw(invariant.query))
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<
      Record<string, unknown>
    >
    t.same(rows, [], invariant.name)
  }
}
