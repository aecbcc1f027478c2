import { randomUUID } from 'node:crypto'
import type { RedisClient } from '@moolah/plugin-kit'
import type { Cluster, Redis } from 'ioredis'
import { Deadlines } from './deadlines.js'
import { HandOffBox } from './hand-off-box.js'
import { ACQUIRE, EXTEND, RELEASE, TAKE } from './redis-scripts.js'
import type { LockStore, StoreAcquireRequest, StoreAcquireResult } from './store.js'

export interface RedisLockStoreOptions {
  /** An ioredis `Redis` or `Cluster`; the store never closes it. */
  redis: RedisClient
  /** Prepended to every key and to the hand-off channel. Default `wallet-lock:`. */
  prefix?: string
  /** Longest wait for any one Redis call. Default 1000 ms. */
  timeoutMs?: number
  /** Longest pause between a waiter's re-checks, the fallback when a hand-off message is lost. Default 250 ms. */
  pollMs?: number
}

type Script = (...args: Array<string | number>) => Promise<unknown>
/** TAKE: [fence, last fence reserved], or -1 - the holder's lease left (busy). */
type TakeReply = [number, number] | number
/** ACQUIRE: [1, fence, last fence] granted now; [1, fence, fence, leaseLeftMs] held already (handed over); [0, holder's leaseLeftMs] busy. */
type AcquireReply = [1, number, number, number?] | [0, number]

/**
 * Locks in Redis or Redis Cluster. A busy resource queues its waiters in Redis; the release
 * script hands the lock straight to the next live waiter and publishes to that waiter's
 * store, so a hand-off costs one round trip instead of a polling interval.
 */
export class RedisLockStore implements LockStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #timeoutMs: number
  readonly #deadlines: Deadlines
  readonly #pollMs: number
  /** One channel per store instance: every hand-off meant for this process arrives here. */
  readonly #channel: string
  readonly #handOffs: HandOffBox
  #subscriber: Redis | Cluster | undefined
  #subscribed: Promise<unknown> | undefined
  #isSubscribed = false
  /** After close() no hand-off message arrives; waiters still find their turn by re-checking. */
  #closed = false

  constructor(options: RedisLockStoreOptions) {
    this.#redis = options.redis as Redis | Cluster
    this.#prefix = options.prefix ?? 'wallet-lock:'
    this.#timeoutMs = options.timeoutMs ?? 1000
    this.#deadlines = new Deadlines(Math.max(5, Math.floor(this.#timeoutMs / 10)))
    this.#pollMs = options.pollMs ?? 250
    this.#channel = `${this.#prefix}hand-off:${randomUUID()}`
    // an early message matters only until the reply that queued its waiter arrives (or times out)
    this.#handOffs = new HandOffBox(2 * this.#timeoutMs + 1000)
    this.#redis.defineCommand('walletLockTake', { numberOfKeys: 1, lua: TAKE })
    this.#redis.defineCommand('walletLockAcquire', { numberOfKeys: 3, lua: ACQUIRE })
    this.#redis.defineCommand('walletLockRelease', { numberOfKeys: 3, lua: RELEASE })
    this.#redis.defineCommand('walletLockExtend', { numberOfKeys: 1, lua: EXTEND })
  }

  async acquire(request: StoreAcquireRequest): Promise<StoreAcquireResult> {
    request.signal?.throwIfAborted()
    const sentAt = Date.now()
    const record = this.#record(request.resource)
    try {
      // the common case in one round trip and one key; only a caller that waits queues (ACQUIRE)
      const taken = await this.#call('walletLockTake', record, request.token, request.ttlMs) as TakeReply
      if (typeof taken !== 'number') return { acquired: true, fence: taken[0], lastFence: taken[1], grantedAt: sentAt }
      request.onContended?.()
      if (request.waitMs <= 0) return { acquired: false, retryAfterMs: -1 - taken }
      return await this.#waitForTurn(request, record, sentAt + request.waitMs)
    } catch (err) {
      // timed out, unreachable or aborted: a command that still reaches Redis is followed by this
      // release on the same connection, which leaves the queue or hands on what was granted
      this.release(request.resource, request.token).catch(() => {})
      throw err
    }
  }

  /**
   * Queues the token (or takes the resource if it came free) and waits for the hand-off
   * message, re-checking when the holder's lease would end and at least every pollMs.
   */
  async #waitForTurn({ resource, token, ttlMs, signal }: StoreAcquireRequest, record: string, deadline: number): Promise<StoreAcquireResult> {
    // subscribed before the first token is queued, so no hand-off message can be missed
    if (!this.#isSubscribed && !this.#closed) await this.#subscribe()
    const id = `${token}|${record}`
    for (;;) {
      const sentAt = Date.now()
      const reply = await this.#call('walletLockAcquire', record, `${record}:queue`, `${record}:waiters`, token, ttlMs, Math.max(0, deadline - sentAt), this.#channel) as AcquireReply
      if (reply[0] === 1) {
        // held already (its message lost): the lease ran from the hand-off, ttlMs - leftMs before Redis answered
        const [, fence, lastFence, leftMs] = reply
        return { acquired: true, fence, lastFence, grantedAt: leftMs === undefined ? sentAt : sentAt - (ttlMs - leftMs) }
      }
      const leaseLeftMs = reply[1]
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        await this.release(resource, token) // leave the queue (or hand on what was granted meanwhile)
        return { acquired: false, retryAfterMs: leaseLeftMs }
      }
      // until the holder's lease would end, then re-check: covers a crashed holder and a lost message
      const handedOver = await this.#handOffs.wait(id, Math.min(remaining, leaseLeftMs + 1, this.#pollMs) * (0.75 + Math.random() * 0.5), signal)
      if (handedOver !== undefined) return { acquired: true, ...handedOver, grantedAt: Date.now() }
    }
  }

  async extend(resource: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#call('walletLockExtend', this.#record(resource), token, ttlMs)) === 1
  }

  async release(resource: string, token: string): Promise<boolean> {
    const record = this.#record(resource)
    return (await this.#call('walletLockRelease', record, `${record}:queue`, `${record}:waiters`, token)) === 1
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#subscriber?.disconnect()
  }

  #record(resource: string): string {
    return `${this.#prefix}{${resource}}`
  }

  #call(name: string, ...args: Array<string | number>): Promise<unknown> {
    const script = (this.#redis as unknown as Record<string, Script>)[name] as Script
    return this.#deadlines.race(script.apply(this.#redis, args), this.#timeoutMs, `Redis ${name}`)
  }

  /** The hand-off channel is subscribed once, before the first token is queued. */
  #subscribe(): Promise<unknown> {
    if (this.#subscribed === undefined) {
      const subscriber = this.#subscriber ??= this.#createSubscriber()
      const subscribed = subscriber.subscribe(this.#channel)
      subscribed.then(() => { this.#isSubscribed = true }, () => { this.#subscribed = undefined }) // failed: try again on the next wait
      this.#subscribed = subscribed
    }
    return this.#deadlines.race(this.#subscribed, this.#timeoutMs, 'Redis SUBSCRIBE')
  }

  #createSubscriber(): Redis | Cluster {
    // ioredis re-subscribes a single-node client after a reconnect with a SUBSCRIBE whose promise
    // nobody handles (an unhandled rejection if the connection drops again). Instead the next
    // waiter subscribes again; waiters in between find their hand-off by re-checking.
    const subscriber = this.#redis.isCluster ? (this.#redis as Cluster).duplicate() : (this.#redis as Redis).duplicate({ autoResubscribe: false })
    subscriber.on('close', () => {
      this.#subscribed = undefined
      this.#isSubscribed = false
    })
    subscriber.on('error', () => {}) // waiters fall back to re-checking; store calls report failures
    subscriber.on('message', (_channel: string, message: string) => this.#handOffs.deliver(message))
    return subscriber
  }
}
