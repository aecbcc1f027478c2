import type { Cluster, Redis, RedisOptions } from 'ioredis'
import type { StoreSubscriber } from './store.js'

export const SUBSCRIBER_CONNECTION_NAME = 'moolah-catalog-cache-subscriber'

// The subscriber must keep reconnecting whatever the app's client does: while it is
// down, invalidations are missed, and the L1 flush on its next 'ready' repairs that.
const subscriberOptions: Partial<RedisOptions> = {
  connectionName: SUBSCRIBER_CONNECTION_NAME,
  lazyConnect: false,
  enableOfflineQueue: true,
  // We subscribe again on every 'ready' ourselves; ioredis' own re-subscription would send a
  // second SUBSCRIBE whose promise nobody handles (an unhandled rejection if the connection drops).
  autoResubscribe: false,
  retryStrategy: (attempt: number) => Math.min(attempt * 50, 1000)
}

/**
 * A dedicated pub/sub connection. For a Cluster it is a plain connection to one master:
 * PUBLISH on a cluster is broadcast to every node, so one node hears every message, and
 * unlike the Cluster's internal subscriber a plain connection tells us when it reconnects.
 */
export class RedisSubscription {
  readonly #client: Redis | Cluster
  readonly #channel: string
  readonly #subscriber: StoreSubscriber
  readonly #subscribedOnce: Promise<void>
  #markSubscribed!: () => void
  #connection: Redis | undefined
  readonly #openWhenReady = (): void => this.#open()

  constructor(client: Redis | Cluster, channel: string, subscriber: StoreSubscriber) {
    this.#client = client
    this.#channel = channel
    this.#subscriber = subscriber
    this.#subscribedOnce = new Promise((resolve) => { this.#markSubscribed = resolve })
    // A Cluster knows its masters only once it is ready
    if (client.isCluster && client.status !== 'ready') client.once('ready', this.#openWhenReady)
    else this.#open()
  }

  /** Resolves once subscribed, or after `waitMs` (the subscription keeps trying in the background). */
  async started(waitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#subscribedOnce, new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs).unref() })])
    clearTimeout(timer)
  }

  async close(): Promise<void> {
    this.#client.off('ready', this.#openWhenReady)
    this.#connection?.disconnect()
  }

  #open(): void {
    const connection = this.#duplicate()
    this.#connection = connection
    connection.on('error', (error: unknown) => this.#subscriber.onError(error))
    connection.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#subscriber.onMessage(message)
    })
    connection.on('ready', () => {
      connection.subscribe(this.#channel).then(() => {
        this.#markSubscribed()
        this.#subscriber.onResync()
      }, (error: unknown) => this.#subscriber.onError(error))
    })
  }

  #duplicate(): Redis {
    if (!this.#client.isCluster) return (this.#client as Redis).duplicate(subscriberOptions)
    const masters = (this.#client as Cluster).nodes('master')
    const node = masters[Math.floor(Math.random() * masters.length)] as Redis
    return node.duplicate(subscriberOptions)
  }
}
