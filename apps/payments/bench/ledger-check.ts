// The ledger invariants of the tests (test/helpers/ledger-invariant-queries.ts), run by the
// benchmark after every measurement on the variant's database.
import type postgres from 'postgres'
import { LEDGER_INVARIANTS } from '../test/helpers/ledger-invariant-queries.js'

/** One line per broken invariant, with a few of the rows that break it; empty when the ledger is sound. */
export async function ledgerViolations(db: postgres.Sql): Promise<string[]> {
  const broken: string[] = []
  for (const invariant of LEDGER_INVARIANTS) {
    const rows = await db.unsafe(invariant.query)
    if (rows.length > 0)
      broken.push(
        `${invariant.name} — broken by ${rows.length} row(s), e.g. ${JSON.stringify(rows.slice(0, 3))}`
      )
  }
  return broken
}
