import type { Cluster, Redis } from 'ioredis'
import type { RedisClient } from './store-selection.js'

export interface SubscriptionListener {
  /** A message on the channel. */
  onMessage(message: string): void
  /** Subscribed: the first time, or again after a reconnect, when messages sent meanwhile were missed. */
  onSubscribed(): void
  /** The connection or its SUBSCRIBE failed; the subscriber keeps trying. */
  onError(error: unknown): void
}

/** A subscription to one channel, as a store's `subscribe()` returns it. */
export interface Subscription {
  /** Resolves true once subscribed (at once when subscribed now), false after `waitMs`. */
  subscribed(waitMs: number): Promise<boolean>
  close(): Promise<void>
}

export interface RedisSubscriberOptions {
  /** The application's client; the subscriber opens its own connection from its settings and never touches it otherwise. */
  redis: RedisClient
  channel: string
  /** CLIENT SETNAME of the connection, so that operators can tell it apart. */
  connectionName: string
  listener: SubscriptionListener
}

const RETRY_STEP_MS = 50
const RETRY_MAX_MS = 1000

/**
 * One channel on a dedicated connection that this object opens, reopens and closes itself.
 * ioredis' own reconnection is off: after the connection ends, the subscriber opens a new one
 * (waiting 50 ms more per failure in a row, at most 1 s) and subscribes on its 'ready', so it
 * knows each time it is subscribed again and says so (`onSubscribed`); a cache needs that to
 * drop what it may have missed. (ioredis' automatic re-subscription would also send a SUBSCRIBE
 * whose promise nobody handles: an unhandled rejection if the connection drops again.)
 * On a Cluster the connection goes to a master chosen afresh for every connection, so a
 * replaced master is left behind; PUBLISH on a cluster reaches every node. The Cluster's own
 * subscriber (`cluster.duplicate()`) is not used because it reconnects without telling.
 */
export class RedisSubscriber implements Subscription {
  readonly #redis: RedisClient
  readonly #channel: string
  readonly #connectionName: string
  readonly #listener: SubscriptionListener
  #connection: Redis | undefined
  #failures = 0
  #retry: NodeJS.Timeout | undefined
  #closed = false
  #isSubscribed = false
  #nextSubscription: Promise<void> | undefined
  #wake: (() => void) | undefined

  constructor(options: RedisSubscriberOptions) {
    this.#redis = options.redis
    this.#channel = options.channel
    this.#connectionName = options.connectionName
    this.#listener = options.listener
    this.#open()
  }

  /** Whether the current connection is subscribed. */
  get isSubscribed(): boolean {
    return this.#isSubscribed
  }

  subscribed(waitMs: number): Promise<boolean> {
    if (this.#isSubscribed) return Promise.resolve(true)
    this.#nextSubscription ??= new Promise((resolve) => {
      this.#wake = resolve
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, waitMs, false).unref()
    })
    return Promise.race([this.#nextSubscription.then(() => true), timeout]).finally(() => clearTimeout(timer))
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    this.#connection?.disconnect()
  }

  #open(): void {
    const node = this.#node()
    if (node === undefined) return this.#reopenLater() // a Cluster that knows no master yet
    const connection = node.duplicate({
      connectionName: this.#connectionName,
      lazyConnect: false,
      enableOfflineQueue: false,
      autoResubscribe: false,
      retryStrategy: () => null
    })
    this.#connection = connection
    connection.on('error', (error: unknown) => this.#listener.onError(error))
    connection.on('message', (_channel: string, message: string) => this.#listener.onMessage(message))
    connection.on('ready', () => {
      connection.subscribe(this.#channel).then(
        () => this.#onSubscribed(),
        (error: unknown) => {
          this.#listener.onError(error)
          connection.disconnect() // and try again on a new connection
        }
      )
    })
    connection.on('close', () => {
      this.#isSubscribed = false
    })
    connection.on('end', () => this.#reopenLater())
  }

  #onSubscribed(): void {
    this.#failures = 0
    this.#isSubscribed = true
    this.#wake?.()
    this.#nextSubscription = undefined
    this.#wake = undefined
    this.#listener.onSubscribed()
  }

  #reopenLater(): void {
    if (this.#closed) return
    this.#failures++
    this.#retry = setTimeout(
      () => this.#open(),
      Math.min(this.#failures * RETRY_STEP_MS, RETRY_MAX_MS)
    ).unref()
  }

  #node(): Redis | undefined {
    if (!this.#redis.isCluster) return this.#redis as Redis
    const masters = (this.#redis as Cluster).nodes('master')
    return masters[Math.floor(Math.random() * masters.length)]
  }
}
