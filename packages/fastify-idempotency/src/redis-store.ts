import type { RedisClient } from '@moolah/plugin-kit'
import { COMMIT, RELEASE, RENEW } from './redis-scripts.js'
import type { Claim, ClaimResult, IdempotencyStore } from './store.js'

export interface RedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` (Redis ≥ 7.0); the store never closes it (its owner does). */
  client: RedisClient
}

/** The commands `defineCommand` adds to the client (EVALSHA with a NOSCRIPT fallback). */
interface IdempotencyCommands {
  setBuffer(key: string, value: string, nx: 'NX', px: 'PX', leaseMs: number, get: 'GET'): Promise<Buffer | null>
  idempotencyRenew(key: string, owner: string, leaseMs: number): Promise<number>
  idempotencyCommit(key: string, owner: string, response: Buffer | string, ttlMs: number): Promise<number>
  idempotencyRelease(key: string, owner: string): Promise<number>
}

const IN_FLIGHT = 0x70 // 'p'
const NEWLINE = 0x0a
const COLON = 0x3a

/**
 * Records in Redis, one string key per idempotency key (layout in redis-scripts.ts):
 * one round trip to decide (a plain SET NX GET) and one owner-checked script to commit.
 */
export class RedisStore implements IdempotencyStore {
  readonly #redis: IdempotencyCommands

  constructor(options: RedisStoreOptions) {
    const client = options.client
    client.defineCommand('idempotencyRenew', { numberOfKeys: 1, lua: RENEW })
    client.defineCommand('idempotencyCommit', { numberOfKeys: 1, lua: COMMIT })
    client.defineCommand('idempotencyRelease', { numberOfKeys: 1, lua: RELEASE })
    this.#redis = client as unknown as IdempotencyCommands
  }

  async claim(key: string, claim: Claim): Promise<ClaimResult> {
    const previous = await this.#redis.setBuffer(key, `${owner(claim.token)}${claim.fingerprint}`, 'NX', 'PX', claim.leaseMs, 'GET')
    if (previous === null) return { state: 'claimed' }
    if (previous[0] === IN_FLIGHT) return { state: 'in-flight', fingerprint: previous.subarray(previous.indexOf(NEWLINE) + 1).toString() }
    const colon = previous.indexOf(COLON)
    const fingerprintEnd = colon + 1 + Number(previous.subarray(1, colon).toString())
    return { state: 'completed', fingerprint: previous.subarray(colon + 1, fingerprintEnd).toString(), response: previous.subarray(fingerprintEnd) }
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.#redis.idempotencyRenew(key, owner(token), leaseMs)) === 1
  }

  async commit(key: string, token: string, response: Buffer | string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.idempotencyCommit(key, owner(token), response, ttlMs)) === 1
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await this.#redis.idempotencyRelease(key, owner(token))) === 1
  }
}

/** The start of an in-flight record owned by `token`. */
function owner(token: string): string {
  return `p${token}\n`
}
