import { randomUUID } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { Deadlines } from './deadlines.js'
import { ACQUIRE, EXTEND, RELEASE } from './redis-scripts.js'
import type { LockStore, StoreAcquireRequest, StoreAcquireResult } from './store.js'
import { waitForHandOff } from './wait-for-hand-off.js'

export interface RedisLockStoreOptions {
  /** An ioredis `Redis` or `Cluster`; the store never closes it. */
  redis: Redis | Cluster
  /** Prepended to every key and to the hand-off channel. Default `wallet-lock:`. */
  prefix?: string
  /** Longest wait for any one Redis call. Default 1000 ms. */
  timeoutMs?: number
  /** Longest pause between a waiter's re-checks, the fallback when a hand-off message is lost. Default 250 ms. */
  pollMs?: number
}

type Script = (...args: Array<string | number>) => Promise<unknown>

const COMMANDS = { walletLockAcquire: ACQUIRE, walletLockRelease: RELEASE } as const

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
  readonly #handOffs = new Map<string, (fence: number) => void>()
  #subscriber: Redis | Cluster | undefined
  #subscribed: Promise<unknown> | undefined
  #isSubscribed = false
  /** After close() no hand-off message arrives; waiters still find their turn by re-checking. */
  #closed = false

  constructor(options: RedisLockStoreOptions) {
    this.#redis = options.redis
    this.#prefix = options.prefix ?? 'wallet-lock:'
    this.#timeoutMs = options.timeoutMs ?? 1000
    this.#deadlines = new Deadlines(Math.max(5, Math.floor(this.#timeoutMs / 10)))
    this.#pollMs = options.pollMs ?? 250
    this.#channel = `${this.#prefix}hand-off:${randomUUID()}`
    for (const [name, lua] of Object.entries(COMMANDS)) this.#redis.defineCommand(name, { numberOfKeys: 4, lua })
    this.#redis.defineCommand('walletLockExtend', { numberOfKeys: 1, lua: EXTEND })
  }

  async acquire(request: StoreAcquireRequest): Promise<StoreAcquireResult> {
    request.signal?.throwIfAborted()
    const deadline = Date.now() + request.waitMs
    if (request.waitMs > 0 && !this.#isSubscribed && !this.#closed) await this.#subscribe()
    const handOff = new Promise<number>((resolve) => { this.#handOffs.set(request.token, resolve) })
    let result: StoreAcquireResult
    try {
      result = await this.#queueUntilOwned(request, deadline, handOff)
    } catch (err) {
      this.#handOffs.delete(request.token)
      // aborted or unreachable: leave the queue, or hand on a lock granted meanwhile, when Redis answers again
      this.release(request.resource, request.token).catch(() => {})
      throw err
    }
    this.#handOffs.delete(request.token)
    return result
  }

  async #queueUntilOwned({ resource, token, ttlMs, signal, onContended }: StoreAcquireRequest, deadline: number, handOff: Promise<number>): Promise<StoreAcquireResult> {
    let queued = false // whether the token may sit in the queue, to be taken out on timeout
    let fence: number | undefined
    do {
      const sentAt = Date.now()
      const wait = Math.max(0, deadline - sentAt)
      queued ||= wait > 0
      // the channel only matters to a token that queues
      const [owned, value] = await this.#script('walletLockAcquire', resource, token, ttlMs, wait, wait > 0 ? this.#channel : '') as [number, number]
      if (owned === 1) return { acquired: true, fence: value, grantedAt: sentAt }
      onContended?.()
      const remaining = deadline - Date.now()
      if (remaining <= 0) {
        if (queued) await this.release(resource, token)
        return { acquired: false, retryAfterMs: value }
      }
      // until the holder's lease would end, then re-check: covers a crashed holder and a lost message
      const recheckMs = Math.min(remaining, value + 1, this.#pollMs) * (0.75 + Math.random() * 0.5)
      fence = await waitForHandOff(handOff, recheckMs, signal)
    } while (fence === undefined)
    return { acquired: true, fence, grantedAt: Date.now() }
  }

  async extend(resource: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.#call('walletLockExtend', [this.#keys(resource)[0], token, ttlMs])) === 1
  }

  async release(resource: string, token: string): Promise<boolean> {
    return (await this.#script('walletLockRelease', resource, token)) === 1
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#subscriber?.disconnect()
  }

  #keys(resource: string): [string, string, string, string] {
    const tag = `${this.#prefix}{${resource}}`
    return [`${tag}:owner`, `${tag}:fence`, `${tag}:queue`, `${tag}:waiters`]
  }

  #script(name: keyof typeof COMMANDS, resource: string, ...args: Array<string | number>): Promise<unknown> {
    return this.#call(name, [...this.#keys(resource), ...args])
  }

  #call(name: string, args: Array<string | number>): Promise<unknown> {
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
    const subscriber = this.#redis.isCluster ? this.#redis.duplicate() : (this.#redis as Redis).duplicate({ autoResubscribe: false })
    subscriber.on('close', () => {
      this.#subscribed = undefined
      this.#isSubscribed = false
    })
    subscriber.on('error', () => {}) // waiters fall back to re-checking; store calls report failures
    subscriber.on('message', (_channel: string, message: string) => {
      const separator = message.lastIndexOf('|')
      this.#handOffs.get(message.slice(0, separator))?.(Number(message.slice(separator + 1)))
    })
    return subscriber
  }
}
