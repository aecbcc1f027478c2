import type { Section } from './checked-section.js'

export function median(values: number[]): number {
  return percentile(values, 0.5)
}

/** The largest value (0 for none); a loop, since spreading 100k+ waits into Math.max overflows the stack. */
export function maximum(values: number[]): number {
  let max = 0
  for (const value of values) if (value > max) max = value
  return max
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

/** Hand-offs (a section run by another holder than the one before, in Redis's order) and overlaps. */
export function handOffs(sections: Section[]): { handOffs: number; overlaps: number } {
  const ordered = [...sections].sort((a, b) => a.seq - b.seq)
  let count = 0
  for (let i = 1; i < ordered.length; i++) {
    if ((ordered[i] as Section).holder !== (ordered[i - 1] as Section).holder) count++
  }
  return { handOffs: count, overlaps: sections.filter((section) => section.overlap).length }
}
