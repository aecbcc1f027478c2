import { randomUUID } from 'node:crypto'
import { RedisSubscriber, type RedisClient } from '@moolah/plugin-kit'
import { waitFor } from '../wait.js'
import { HandOffBox } from './hand-off-box.js'
import { ACQUIRE, RELEASE, RENEW } from './redis-scripts.js'
import type { StoreAcquireRequest, StoreAcquireResult, StoreGrant, WalletLockStore } from './store.js'

export interface RedisWalletLockStoreOptions {
  /** An ioredis `Redis` or `Cluster`. It stays the caller's: the store never closes it. */
  redis: RedisClient
  /**
   * Prefix of every key (`<prefix>{<resource>}`, `…:queue`, `…:waiters`) and of the hand-off
   * channel (`<prefix>hand-off:<uuid>`). No `{` or `}`.
   * @default 'wallet-lock:'
   */
  prefix?: string | undefined
}

interface WalletLockCommands {
  walletLockAcquire(
    record: string,
    queue: string,
    waiters: string,
    token: string,
    leaseMs: number,
    waitMs: number,
    channel: string,
    reserve: '1' | '0'
  ): Promise<AcquireReply>
  walletLockRelease(record: string, queue: string, waiters: string, token: string): Promise<number>
  walletLockRenew(record: string, token: string, leaseMs: number): Promise<number>
}

/** fence: granted now, nothing reserved (the fast path); [1, fence, last fence] granted now; [1, fence, fence, leaseLeftMs] held already (handed over); [0, holder's leaseLeftMs] busy. */
type AcquireReply = number | [1, number, number, number?] | [0, number]

const SUBSCRIBER_CONNECTION_NAME = 'moolah-wallet-lock-hand-off'
/** An early hand-off message matters only until the reply that queued its waiter arrives. */
const KEEP_EARLY_MESSAGE_MS = 10_000

/**
 * Locks in Redis or Redis Cluster. A busy resource queues its waiters in Redis; the release
 * script hands the lock straight to the next live waiter and publishes to that waiter's store
 * (one channel per store, on the subscriber's own connection), so a hand-off costs one round
 * trip instead of a polling interval. Keys: `<prefix>{<resource>}` (the record), and while
 * someone waits `…:queue` and `…:waiters`.
 */
export class RedisWalletLockStore implements WalletLockStore {
  readonly #redis: RedisClient & WalletLockCommands
  readonly #prefix: string
  /** Every hand-off meant for this store arrives here. */
  readonly #channel: string
  readonly #handOffs = new HandOffBox(KEEP_EARLY_MESSAGE_MS)
  readonly #subscriber: RedisSubscriber

  constructor(options: RedisWalletLockStoreOptions) {
    this.#redis = options.redis as RedisClient & WalletLockCommands
    this.#prefix = options.prefix ?? 'wallet-lock:'
    this.#channel = `${this.#prefix}hand-off:${randomUUID()}`
    this.#redis.defineCommand('walletLockAcquire', { numberOfKeys: 3, lua: ACQUIRE })
    this.#redis.defineCommand('walletLockRelease', { numberOfKeys: 3, lua: RELEASE })
    this.#redis.defineCommand('walletLockRenew', { numberOfKeys: 1, lua: RENEW })
    this.#subscriber = new RedisSubscriber({
      redis: this.#redis,
      channel: this.#channel,
      connectionName: SUBSCRIBER_CONNECTION_NAME,
      listener: {
        onMessage: (message) => this.#handOffs.deliver(message),
        onSubscribed: () => {}, // a message missed meanwhile is found by the waiter's next re-check
        onError: () => {} // the same: waiters re-check; store calls report failures
      }
    })
  }

  async acquire({
    resource,
    token,
    leaseMs,
    waitMs,
    reserve
  }: StoreAcquireRequest): Promise<StoreAcquireResult> {
    // nothing awaited before the command: the release the plugin sends after a call it gave up on
    // must reach Redis after it, on the same connection
    const sentAt = Date.now()
    const record = this.#record(resource)
    const reply = await this.#redis.walletLockAcquire(
      record,
      `${record}:queue`,
      `${record}:waiters`,
      token,
      leaseMs,
      waitMs,
      this.#channel,
      reserve ? '1' : '0'
    )
    if (typeof reply === 'number')
      return { acquired: true, fence: reply, lastFence: reply, grantedAt: sentAt }
    if (reply[0] === 0) return { acquired: false, retryAfterMs: reply[1] }
    // held already: the lease ran from the hand-off, leaseMs - leftMs before Redis answered
    const [, fence, lastFence, leftMs] = reply
    return {
      acquired: true,
      fence,
      lastFence,
      grantedAt: leftMs === undefined ? sentAt : sentAt - (leaseMs - leftMs)
    }
  }

  async handedOver(
    resource: string,
    token: string,
    ms: number,
    signal: AbortSignal | undefined
  ): Promise<StoreGrant | undefined> {
    // not subscribed (yet, or reconnecting): a hand-off published meanwhile is lost, so the plugin
    // re-checks as soon as the subscription is back
    if (!this.#subscriber.isSubscribed)
      return await waitFor(
        (wake) => {
          void this.#subscriber.subscribed(ms).then(() => wake(undefined))
          return () => {}
        },
        ms,
        signal,
        () => undefined
      )
    const handedOver = await this.#handOffs.wait(`${token}|${this.#record(resource)}`, ms, signal)
    return handedOver === undefined ? undefined : { acquired: true, ...handedOver, grantedAt: Date.now() }
  }

  async renew(resource: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.#redis.walletLockRenew(this.#record(resource), token, leaseMs)) === 1
  }

  async release(resource: string, token: string): Promise<boolean> {
    const record = this.#record(resource)
    return (await this.#redis.walletLockRelease(record, `${record}:queue`, `${record}:waiters`, token)) === 1
  }

  async close(): Promise<void> {
    await this.#subscriber.close()
  }

  #record(resource: string): string {
    return `${this.#prefix}{${resource}}`
  }
}
