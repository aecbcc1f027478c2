import type { Cluster, Redis } from 'ioredis'
import { CLAIM, COMMIT, RELEASE, RENEW } from './redis-scripts.js'
import type { Claim, ClaimResult, IdempotencyStore } from './store.js'

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster`; the store never closes it (its owner does). */
  client: Redis | Cluster
}

type ClaimReply = [Buffer] | [Buffer, Buffer, number] | [Buffer, Buffer, Buffer]

/** The commands `defineCommand` adds to the client (EVALSHA with a NOSCRIPT fallback). */
interface IdempotencyCommands {
  idempotencyClaimBuffer(key: string, token: string, fingerprint: string, leaseMs: number): Promise<ClaimReply>
  idempotencyRenew(key: string, token: string, leaseMs: number): Promise<number>
  idempotencyCommit(key: string, token: string, response: Buffer, ttlMs: number): Promise<number>
  idempotencyRelease(key: string, token: string): Promise<number>
}

/**
 * Records in Redis, one key per idempotency key, every step one single-key Lua script:
 * one round trip to decide (claim / in flight / completed) and one to commit.
 */
export class RedisStore implements IdempotencyStore {
  readonly #redis: IdempotencyCommands

  constructor(options: RedisStoreOptions) {
    const client = options.client
    client.defineCommand('idempotencyClaim', { numberOfKeys: 1, lua: CLAIM })
    client.defineCommand('idempotencyRenew', { numberOfKeys: 1, lua: RENEW })
    client.defineCommand('idempotencyCommit', { numberOfKeys: 1, lua: COMMIT })
    client.defineCommand('idempotencyRelease', { numberOfKeys: 1, lua: RELEASE })
    this.#redis = client as unknown as IdempotencyCommands
  }

  async claim(key: string, claim: Claim): Promise<ClaimResult> {
    const reply = await this.#redis.idempotencyClaimBuffer(key, claim.token, claim.fingerprint, claim.leaseMs)
    const state = reply[0].toString()
    if (reply.length === 1) return { state: 'claimed' }
    const fingerprint = reply[1].toString()
    if (state === 'completed') return { state: 'completed', fingerprint, response: reply[2] as Buffer }
    return { state: 'in-flight', fingerprint, remainingMs: reply[2] as number }
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.#redis.idempotencyRenew(key, token, leaseMs)) === 1
  }

  async commit(key: string, token: string, response: Buffer, ttlMs: number): Promise<boolean> {
    return (await this.#redis.idempotencyCommit(key, token, response, ttlMs)) === 1
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await this.#redis.idempotencyRelease(key, token)) === 1
  }
}
