/**
 * A SQL statement on the hot path, written once when its module loads. Each Postgres connection
 * prepares it on first use (a named statement: parsed and described once), and from then on only
 * binds and executes it: one round trip, no per-request parse, plan description or query building.
 */
export interface Statement<Row> {
  readonly text: string
  /** Never set: carries the row type to `Database.run`. */
  readonly row?: Row
}

export function statement<Row>(text: string): Statement<Row> {
  return { text }
}
