import { waitFor } from '../wait.js'

/** The fences a hand-off gives its waiter: its own and the last one reserved for its process. */
export interface HandedOver {
  fence: number
  lastFence: number
}

/**
 * Where a store's hand-off messages ("token|record key|fence:lastFence") meet the waiters they are for.
 * A waiter is known by its token and the resource's record key, so a late message for another
 * resource of the same acquisition can never be mistaken for this one. The message can overtake
 * the reply that queued its waiter (they travel on different connections): it is then kept for
 * `keepMs` until the waiter looks, instead of registering every acquisition in advance.
 */
export class HandOffBox {
  readonly #waiting = new Map<string, (handedOver: HandedOver) => void>()
  /** Messages nobody waited for yet, oldest first. */
  readonly #early = new Map<string, { handedOver: HandedOver; at: number }>()
  readonly #keepMs: number

  constructor(keepMs: number) {
    this.#keepMs = keepMs
  }

  deliver(message: string): void {
    const separator = message.lastIndexOf('|')
    const id = message.slice(0, separator)
    const [fence, lastFence] = message
      .slice(separator + 1)
      .split(':')
      .map(Number) as [number, number]
    const handedOver = { fence, lastFence }
    const waiter = this.#waiting.get(id)
    if (waiter !== undefined) {
      waiter(handedOver)
      return
    }
    const now = Date.now()
    for (const [oldId, { at }] of this.#early) {
      if (now - at < this.#keepMs) break
      this.#early.delete(oldId) // its waiter gave up, or found its turn by re-checking
    }
    this.#early.set(id, { handedOver, at: now })
  }

  /**
   * What was handed to `id`: at once if its message came early, else when it arrives. Resolves
   * undefined after `ms` (time to re-check), rejects with the reason when `signal` aborts.
   */
  wait(id: string, ms: number, signal: AbortSignal | undefined): Promise<HandedOver | undefined> {
    const early = this.#early.get(id)
    if (early !== undefined) {
      this.#early.delete(id)
      return Promise.resolve(early.handedOver)
    }
    return waitFor<HandedOver | undefined>(
      (wake) => {
        this.#waiting.set(id, wake)
        return () => this.#waiting.delete(id)
      },
      ms,
      signal,
      () => undefined
    )
  }
}
