import type { Redis } from 'ioredis'
import { checkedSection, type Section } from './checked-section.js'
import type { TakeLock } from './contenders.js'

/** Sequential acquire + release of one uncontended key on one client for `durationMs`. */
export async function uncontended(
  take: TakeLock,
  durationMs: number
): Promise<{ cycles: number; perSecond: number }> {
  const started = Date.now()
  let cycles = 0
  while (Date.now() - started < durationMs) {
    const release = await take('uncontended')
    await release()
    cycles++
  }
  return { cycles, perSecond: (cycles * 1000) / (Date.now() - started) }
}

/** A caller looping on the hot key: its lock client, and the connection its section checks on. */
export interface Caller {
  take: TakeLock
  redis: Redis
  holder: string
}

export interface HotKeyRound {
  sections: Section[]
  /** Every acquisition's wait in ms, including those still waiting when time was up. */
  waits: number[]
}

/**
 * The callers loop acquire → checked section → release on one key for `durationMs`; sections
 * of acquisitions that completed in that time count. Waits still pending at the end count
 * with what they had waited so far. `atStop` runs when time is up, before the callers finish
 * what they are doing (to read CPU and command counters for the measured time only).
 */
export async function hotKey(
  callers: Caller[],
  checkKey: string,
  durationMs: number,
  atStop: () => void = () => {}
): Promise<HotKeyRound> {
  let stopped = false
  const sections: Section[] = []
  const waits: number[] = []
  const pendingSince = new Map<number, number>()
  const loops = callers.map(async ({ take, redis, holder }, id) => {
    while (!stopped) {
      const askedAt = Date.now()
      pendingSince.set(id, askedAt)
      const release = await take('hot')
      pendingSince.delete(id)
      const counted = !stopped
      if (counted) waits.push(Date.now() - askedAt)
      const section = await checkedSection(redis, checkKey, holder, release)
      if (counted) sections.push(section)
    }
  })
  await new Promise((resolve) => setTimeout(resolve, durationMs))
  stopped = true
  atStop()
  for (const since of pendingSince.values()) waits.push(Date.now() - since)
  await Promise.all(loops)
  return { sections, waits }
}
