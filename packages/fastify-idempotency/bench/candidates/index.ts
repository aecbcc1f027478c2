import { floor } from './floor.js'
import { naive } from './naive.js'
import { nodeIdempotency } from './node-idempotency.js'
import { plugin } from './plugin.js'
import { postgresTable } from './postgres-table.js'
import { powertools } from './powertools.js'
import type { Candidate } from './types.js'

/** Measured against the bare route (./bare.ts), which runs in a server process of its own. */
export const candidates: Record<string, Candidate> = {
  '@moolah/fastify-idempotency': plugin,
  'floor: SET NX GET + SET by hand, no guarantees': floor,
  'naive snippet (SET NX + overwrite)': naive,
  '@node-idempotency/core + redis adapter': nodeIdempotency,
  '@aws-lambda-powertools/idempotency (cache layer, @redis/client)': powertools,
  'Postgres idempotency_keys table': postgresTable
}
