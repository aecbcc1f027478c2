/** Clocks drift: the local view of a lease ends this much before the store's. */
export function clockDriftMs(leaseMs: number): number {
  return Math.floor(leaseMs * 0.01) + 2
}

/**
 * One store grant of a resource to this process, as it goes from one local holder to the next:
 * the token the store knows it by, the fences the grant reserved, and the lease. While callers
 * of this process wait for the resource, a release passes the turn to the next of them (with the
 * next reserved fence, no store round trip) for up to `turnMs` after the grant; then the resource
 * goes back to the store, where other processes' waiters come first.
 */
export class Turn {
  readonly resource: string
  /** The token of the acquisition that took the resource from the store: renew and release use it. */
  readonly storeToken: string
  readonly #grantedAt = Date.now()
  #nextFence: number
  readonly #lastFence: number
  /** The store lease: the local time it runs from (grant or last renewal) and its length. */
  #leaseFrom: number
  #leaseMs: number

  constructor(
    resource: string,
    storeToken: string,
    fence: number,
    lastFence: number,
    leaseFrom: number,
    leaseMs: number
  ) {
    this.resource = resource
    this.storeToken = storeToken
    this.#nextFence = fence + 1
    this.#lastFence = lastFence
    this.#leaseFrom = leaseFrom
    this.#leaseMs = leaseMs
  }

  get leaseFrom(): number {
    return this.#leaseFrom
  }

  /** The local time from which the lease must be taken as lost. */
  get leaseEnd(): number {
    return this.#leaseFrom + this.#leaseMs - clockDriftMs(this.#leaseMs)
  }

  renewed(from: number, leaseMs: number): void {
    this.#leaseFrom = from
    this.#leaseMs = leaseMs
  }

  /**
   * The fence for the next local holder, which asks for a `leaseMs` lease, when the turn may go on
   * to it: less than `turnMs` since the grant, a reserved fence left, and at least two thirds of
   * `leaseMs` left of the lease (the holder's first renewal comes after a third). Else undefined.
   */
  pass(leaseMs: number, turnMs: number, now: number = Date.now()): number | undefined {
    if (
      now - this.#grantedAt >= turnMs ||
      this.#nextFence > this.#lastFence ||
      this.leaseEnd - now < (leaseMs * 2) / 3
    )
      return undefined
    return this.#nextFence++
  }
}
