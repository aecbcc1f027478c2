import type { EntryTimes } from './entry.js'

/**
 * What a copy may be used for at `now`: `fresh` is served as it is; `stale` is served at once
 * while one background load runs (stale-while-revalidate); `error` is served only when no new
 * copy can be had (stale-if-error); `expired` is not served.
 */
export type Freshness = 'fresh' | 'stale' | 'error' | 'expired'

export function freshness(times: EntryTimes, now: number): Freshness {
  if (now < times.freshUntil) return 'fresh'
  if (now < times.staleUntil) return 'stale'
  if (now < times.errorUntil) return 'error'
  return 'expired'
}

/** The most recently loaded of `copies` that may still be served when loading fails, if any. */
export function lastResort<E extends EntryTimes>(
  now: number,
  ...copies: Array<E | undefined>
): E | undefined {
  let best: E | undefined
  for (const copy of copies) {
    if (copy !== undefined && now < copy.errorUntil && copy.createdAt > (best?.createdAt ?? -Infinity))
      best = copy
  }
  return best
}
