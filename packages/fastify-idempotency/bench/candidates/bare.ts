import type { Candidate } from './types.js'

/** The baseline: the same route with no idempotency at all. */
export const bare: Candidate = async ({ app, handler }) => {
  app.post('/transfers', handler)
  return async () => {}
}
