import type { Redis } from 'ioredis'

/** One critical section as Redis saw it. */
export interface Section {
  /** Global order of the sections (1, 2, 3, … when none overlapped). */
  seq: number
  /** Who ran it: process and caller. */
  holder: string
  /** Another holder was inside when this one entered. */
  overlap: boolean
}

/**
 * Runs the critical section of a lock holder and releases the lock. The section increments a
 * shared check key on entering and again on leaving, on the holder's own connection, the
 * second time before the release: while holders never overlap, every entry finds an even
 * count (so gets an odd one back), in the order Redis ran them. An entry that gets an even
 * count back started while another holder was inside. Nothing is awaited before the release
 * is sent, so the check adds writes but no round trip to the hand-off.
 */
export async function checkedSection(
  redis: Redis,
  checkKey: string,
  holder: string,
  release: () => Promise<unknown>
): Promise<Section> {
  const entered = redis.incr(checkKey)
  const left = redis.incr(checkKey) // sent before the release on the same connection, so it runs first
  const released = release()
  const count = await entered
  await left
  await released
  return { seq: (count + 1) / 2, holder, overlap: count % 2 === 0 }
}
