// The ledger invariants of the tests (test/helpers/ledger-invariant-queries.ts), run by the
// benchmark after every measurement on the variant's database, and one of the benchmark's own.
import type postgres from 'postgres'
import { LEDGER_INVARIANTS, type LedgerInvariant } from '../test/helpers/ledger-invariant-queries.js'

// The benchmark buys only for ordinary recipients, which the in-process sandbox fulfils at once:
// a purchase that is still pending once the server has gone quiet, or that failed, is a fault.
const EVERY_PURCHASE_COMPLETED: LedgerInvariant = {
  name: 'every purchase completed (the sandbox fulfils ordinary recipients at once)',
  query: `SELECT id, status, failure_code FROM purchases WHERE status <> 'completed'`
}

/** One line per broken invariant, with a few of the rows that break it; empty when the ledger is sound. */
export async function ledgerViolations(db: postgres.Sql): Promise<string[]> {
  const broken: string[] = []
  for (const invariant of [...LEDGER_INVARIANTS, EVERY_PURCHASE_COMPLETED]) {
    const rows = await db.unsafe(invariant.query)
    if (rows.length > 0)
      broken.push(
        `${invariant.name} — broken by ${rows.length} row(s), e.g. ${JSON.stringify(rows.slice(0, 3))}`
      )
  }
  return broken
}
