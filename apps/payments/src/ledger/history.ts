import { and, desc, eq, lt } from 'drizzle-orm'
import type { Db } from '../db/database.js'
import { journalEntries } from '../db/schema.js'
import { entryView } from './views.js'

export interface HistoryPage {
  items: Array<ReturnType<typeof entryView>>
  nextCursor: string | null
}

/**
 * A wallet's journal lines, newest first. The cursor is the position of the last line
 * returned, so pages stay stable while new lines are added at the top.
 */
export async function walletHistory(
  db: Db,
  walletId: string,
  limit: number,
  before: number | undefined
): Promise<HistoryPage> {
  const rows = await db
    .select()
    .from(journalEntries)
    .where(
      and(
        eq(journalEntries.walletId, walletId),
        before === undefined ? undefined : lt(journalEntries.seq, before)
      )
    )
    .orderBy(desc(journalEntries.seq))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    items: page.map(entryView),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.seq) : null
  }
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url')
}

/** The position a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  const match = /^s(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString())
  return match === null ? undefined : Number(match[1])
}
