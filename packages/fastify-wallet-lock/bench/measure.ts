import type { TakeLock } from './contenders.js'

/** Sequential acquire + release of one uncontended key on one client, per second. */
export async function cyclesPerSecond(take: TakeLock, durationMs: number): Promise<number> {
  const stopAt = Date.now() + durationMs
  const started = Date.now()
  let cycles = 0
  while (Date.now() < stopAt) {
    const release = await take('uncontended')
    await release()
    cycles++
  }
  return (cycles * 1000) / (Date.now() - started)
}

export interface HandOffResult {
  handOffsPerSecond: number
  sections: number
  maxWaitMs: number
  p99WaitMs: number
}

/**
 * `takers.length` clients loop acquire → section → release on one key. A hand-off is a
 * section run by a different holder than the one before. Waits still pending when the
 * time is up count towards the maximum.
 */
export async function handOffs(takers: TakeLock[], durationMs: number): Promise<HandOffResult> {
  let stopped = false
  let handOffCount = 0
  let sections = 0
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
        sections++
        if (lastHolder !== id) handOffCount++
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
  waits.sort((a, b) => a - b)
  return {
    handOffsPerSecond: (handOffCount * 1000) / elapsed,
    sections,
    maxWaitMs: waits.at(-1) ?? 0,
    p99WaitMs: waits[Math.floor(waits.length * 0.99)] ?? 0
  }
}
