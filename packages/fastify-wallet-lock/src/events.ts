/** What `onEvent` receives; `resources` are sorted and unique, times in ms. */
export type WalletLockEvent =
  /** Every resource is held; `waitedMs` counts from the call to `acquire`. */
  | {
      type: 'acquired'
      resources: readonly string[]
      fence: number
      fences: Readonly<Record<string, number>>
      waitedMs: number
    }
  /** `resource` was busy on the first try; the acquisition waits (or fails at once with `waitMs: 0`). */
  | { type: 'contended'; resources: readonly string[]; resource: string }
  /** `resource` stayed busy past `waitMs`; the acquisition fails with CONCURRENT_REQUEST. */
  | { type: 'timeout'; resources: readonly string[]; resource: string; waitedMs: number }
  /** The lease ended while held: it expired unrenewed, or the store says another token owns it. */
  | { type: 'lost'; resources: readonly string[]; reason: 'expired' | 'taken' }
  /** Released; `heldMs` since acquired, `owned` false when the lease had already been lost. */
  | { type: 'released'; resources: readonly string[]; heldMs: number; owned: boolean }
  /** A store call failed or timed out; `degraded` when failMode 'open' let the caller go on unlocked. */
  | {
      type: 'store-error'
      resources: readonly string[]
      operation: StoreOperation
      error: Error
      degraded: boolean
    }

export type StoreOperation = 'acquire' | 'renew' | 'release'

export type WalletLockEventListener = (event: WalletLockEvent) => void
