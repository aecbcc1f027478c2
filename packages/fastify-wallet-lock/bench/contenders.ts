import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redlock } from '@sesamecare-oss/redlock'
import type { Redis } from 'ioredis'
import { Mutex } from 'redis-semaphore'
import { RedisWalletLockStore, WalletLockManager } from './library.js'

/** Takes `key` (waiting as long as it takes) and resolves with its release. */
export type TakeLock = (key: string) => Promise<() => Promise<unknown>>

/** One lock implementation: a lock client on one Redis connection. */
export interface Contender {
  name: string
  client(redis: Redis): TakeLock
}

/** What the clients opened besides the connections they were given (our hand-off subscribers). */
const opened: Array<InstanceType<typeof RedisWalletLockStore>> = []

export async function closeClients(): Promise<void> {
  await Promise.all(opened.map((store) => store.close()))
}

const TTL_MS = 10_000
const log = { warn: console.warn, error: console.error }

function walletLockClient(redis: Redis, prefix: string): TakeLock {
  const store = new RedisWalletLockStore({ redis, prefix })
  opened.push(store)
  const manager = new WalletLockManager({
    store,
    timeoutMs: 1000,
    leaseMs: TTL_MS,
    waitMs: 60_000,
    pollMs: 250,
    turnMs: 5,
    failMode: 'closed',
    log
  })
  return async (key) => {
    // renewed while held, as routes and withLock do (redis-semaphore renews too)
    const lock = await manager.acquire(key, { autoRenew: true })
    return () => lock.release()
  }
}

const NAIVE_RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

/** Every lock of the benchmark, ours first; keys under `prefix`. */
export function contenders(prefix: string): Contender[] {
  return [
    { name: '@moolah/fastify-wallet-lock', client: (redis) => walletLockClient(redis, `${prefix}moolah:`) },
    {
      name: 'redis-semaphore Mutex',
      client: (redis) => async (key) => {
        const mutex = new Mutex(redis, `${prefix}semaphore:${key}`, {
          lockTimeout: TTL_MS,
          acquireTimeout: 60_000
        })
        await mutex.acquire()
        return () => mutex.release()
      }
    },
    {
      name: '@sesamecare-oss/redlock',
      client: (redis) => {
        const redlock = new Redlock([redis], { retryCount: -1 })
        return async (key) => {
          const lock = await redlock.acquire([`${prefix}redlock:${key}`], TTL_MS)
          return () => lock.release()
        }
      }
    },
    {
      name: 'naive SET NX PX, 10 ms polling',
      client: (redis) => async (key) => {
        const token = randomBytes(16).toString('hex')
        while ((await redis.set(`${prefix}naive:${key}`, token, 'PX', TTL_MS, 'NX')) === null) await sleep(10)
        return () => redis.eval(NAIVE_RELEASE, 1, `${prefix}naive:${key}`, token)
      }
    }
  ]
}
