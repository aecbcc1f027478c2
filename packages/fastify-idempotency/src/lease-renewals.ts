// The "added at" of a claim whose renewal is in flight: never due
const RENEWING = Infinity

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
  /** Each claim with the time it was added (0 once renewed: due at every tick; RENEWING while a renewal is in flight). */
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
      if (since > due) continue // younger than a period, or its renewal is still in flight
      // One renewal at a time per claim: a store slower than a tick must not get a second one
      this.#claims.set(claim, RENEWING)
      void this.#renew(claim).then((keep) => {
        if (!keep) this.#claims.delete(claim)
        else if (this.#claims.has(claim)) this.#claims.set(claim, 0) // due again at the next tick
      })
    }
  }
}
