/**
 * Renews a lease every third of its length until stopped, so a handler that runs
 * longer than the lease keeps its claim while a crashed process loses it quickly.
 * `renew` resolves false when the claim is gone; renewal then stops by itself.
 */
export function startLeaseRenewal(leaseMs: number, renew: () => Promise<boolean>): () => void {
  const timer = setInterval(() => {
    void renew().then((owned) => {
      if (!owned) clearInterval(timer)
    })
  }, Math.max(1, Math.floor(leaseMs / 3)))
  timer.unref()
  return () => clearInterval(timer)
}
