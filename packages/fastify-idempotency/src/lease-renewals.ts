/**
 * Renews the leases of every in-flight claim with one timer (per lease length) instead of a
 * timer per request: every third of the lease, each claim older than that is renewed, so a
 * lease is renewed at most two thirds into its life. `renew(claim)` resolves false when the
 * claim is gone (or should no longer be held); it is then dropped. The claims themselves are
 * the entries (no wrapper or closure per request: this runs for every claimed request).
 */
export class LeaseRenewals<Claim> {
  readonly #periodMs: number
  readonly #renew: (claim: Claim) => Promise<boolean>
  /** Each claim with the time it was added. */
  readonly #claims = new Map<Claim, number>()
  #timer: NodeJS.Timeout | undefined

  constructor(leaseMs: number, renew: (claim: Claim) => Promise<boolean>) {
    this.#periodMs = Math.max(1, Math.floor(leaseMs / 3))
    this.#renew = renew
  }

  /** Starts renewing `claim` until `delete(claim)` or its renewal says false. */
  add(claim: Claim): void {
    this.#claims.set(claim, Date.now())
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.#periodMs)
      this.#timer.unref()
    }
  }

  delete(claim: Claim): void {
    this.#claims.delete(claim)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#claims.clear()
  }

  #tick(): void {
    // An idle timer goes away at its first empty tick, not at every request that ends.
    if (this.#claims.size === 0) return this.stop()
    const due = Date.now() - this.#periodMs
    for (const [claim, since] of this.#claims) {
      if (since > due) continue
      void this.#renew(claim).then((keep) => {
        if (!keep) this.#claims.delete(claim)
      })
    }
  }
}
