import type { TakeLock } from './contenders.js'

/** Sequential acquire + release of one uncontended key on one client, per second. */
export async function cyclesPerSecond(take: TakeLock, durationMs: number): Promise<number> {
  const started = Date.now()
  let cycles = 0
  while (Date.now() - started < durationMs) {
    const release = await take('uncontended')
    await release()
    cycles++
  }
  return (cycles * 1000) / (Date.now() - started)
}

export interface HandOffRound {
  handOffsPerSecond: number
  /** Every acquisition's wait in ms, including those still waiting when time was up. */
  waits: number[]
}

/**
 * The takers loop acquire → section → release on one key for `durationMs`. A hand-off is a
 * section run by a different holder than the one before.
 */
export async function handOffs(takers: TakeLock[], durationMs: number): Promise<HandOffRound> {
  let stopped = false
  let count = 0
  let lastHolder = -1
  const waits: number[] = []
  const pendingSince = new Map<number, number>()
  const started = Date.now()
  const loops = takers.map(async (take, id) => {
    while (!stopped) {
      const askedAt = Date.now()
      pendingSince.set(id, askedAt)
      const release = await take('hot')
      pendingSince.delete(id)
      if (!stopped) {
        waits.push(Date.now() - askedAt)
        if (lastHolder !== id) count++
        lastHolder = id
      }
      await release()
    }
  })
  await new Promise((resolve) => setTimeout(resolve, durationMs))
  stopped = true
  const elapsed = Date.now() - started
  for (const since of pendingSince.values()) waits.push(Date.now() - since)
  await Promise.all(loops)
  return { handOffsPerSecond: (count * 1000) / elapsed, waits }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}
