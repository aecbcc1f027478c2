interface Renewal {
  since: number
  renew: () => Promise<boolean>
}

/**
 * Renews the leases of every in-flight claim with one timer (per lease length) instead of a
 * timer per request: every third of the lease, each claim older than that is renewed, so a
 * lease is renewed at most two thirds into its life. `renew` resolves false when the claim
 * is gone (or should no longer be held); it is then dropped.
 */
export class LeaseRenewals {
  readonly #periodMs: number
  readonly #renewals = new Set<Renewal>()
  #timer: NodeJS.Timeout | undefined

  constructor(leaseMs: number) {
    this.#periodMs = Math.max(1, Math.floor(leaseMs / 3))
  }

  /** Starts renewing; the returned function stops it. */
  add(renew: () => Promise<boolean>): () => void {
    const renewal: Renewal = { since: Date.now(), renew }
    this.#renewals.add(renewal)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#periodMs)
      this.#timer.unref()
    }
    return () => { this.#renewals.delete(renewal) }
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#renewals.clear()
  }

  #tick(): void {
    // An idle timer goes away at its first empty tick, not at every request that ends.
    if (this.#renewals.size === 0) return this.stop()
    const due = Date.now() - this.#periodMs
    for (const renewal of this.#renewals) {
      if (renewal.since > due) continue
      void renewal.renew().then((keep) => {
        if (!keep) this.#renewals.delete(renewal)
      })
    }
  }
}
