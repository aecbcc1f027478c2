import type { Socket } from 'node:net'
import type { RedisClient } from '@moolah/plugin-kit'
import type { Claim, ClaimResult, IdempotencyStore } from './store.js'

export interface RedisIdempotencyStoreOptions {
  /** An ioredis `Redis` or `Cluster` (Redis ≥ 7.0). It stays the caller's: the store never closes it. */
  redis: RedisClient
  /**
   * Prefix of every key.
   * @default 'idempotency:'
   */
  prefix?: string | undefined
}

/*
 * The record is one string per key, so it runs unchanged on Redis Cluster:
 *   in flight:  'p' .. token .. '\n' .. fingerprint          (key expiry = the lease)
 *   completed:  'c' .. #fingerprint .. ':' .. fingerprint .. response bytes   (key expiry = the TTL)
 * The claim is a plain `SET key value NX PX lease GET` (Redis ≥ 7.0): no script, one round
 * trip, and the old value comes back when the key is taken. The owner-checked writes are
 * single-key Lua scripts registered once per client with defineCommand (EVALSHA with a NOSCRIPT
 * fallback); ARGV[1] is always the owner prefix 'p' .. token .. '\n'.
 */
const OWNED = `
local record = redis.call('GET', KEYS[1])
if not record or string.sub(record, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
`

const scripts = {
  // KEYS[1] record; ARGV owner prefix, leaseMs → 1 renewed | 0 not the owner
  idempotencyRenew: { numberOfKeys: 1, lua: `${OWNED}redis.call('PEXPIRE', KEYS[1], ARGV[2])\nreturn 1` },
  // KEYS[1] record; ARGV owner prefix, response bytes, ttlMs → 1 committed | 0 not the owner
  idempotencyCommit: {
    numberOfKeys: 1,
    lua: `${OWNED}local fingerprint = string.sub(record, #ARGV[1] + 1)
redis.call('SET', KEYS[1], 'c' .. #fingerprint .. ':' .. fingerprint .. ARGV[2], 'PX', ARGV[3])
return 1`
  },
  // KEYS[1] record; ARGV owner prefix → 1 released | 0 not the owner
  idempotencyRelease: { numberOfKeys: 1, lua: `${OWNED}redis.call('DEL', KEYS[1])\nreturn 1` }
} as const

/** The client's commands this store uses, `defineCommand`'s included. */
interface IdempotencyCommands {
  setBuffer(
    key: string,
    value: string,
    nx: 'NX',
    px: 'PX',
    leaseMs: number,
    get: 'GET'
  ): Promise<Buffer | null>
  idempotencyRenew(key: string, owner: string, leaseMs: number): Promise<number>
  idempotencyCommit(key: string, owner: string, response: Buffer | string, ttlMs: number): Promise<number>
  idempotencyRelease(key: string, owner: string): Promise<number>
}

const IN_FLIGHT = 0x70 // 'p'
const NEWLINE = 0x0a
const COLON = 0x3a

/**
 * Records in Redis or Redis Cluster, one string key per record (`<prefix><storage key>`): one
 * round trip to decide (a plain SET NX GET) and one owner-checked script to commit. Commands
 * sent in one event-loop turn share a socket write (see `writeBatcher`).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: IdempotencyCommands
  readonly #prefix: string
  readonly #batch: () => void

  constructor(options: RedisIdempotencyStoreOptions) {
    for (const [name, definition] of Object.entries(scripts)) options.redis.defineCommand(name, definition)
    this.#redis = options.redis as unknown as IdempotencyCommands
    this.#prefix = options.prefix ?? 'idempotency:'
    this.#batch = writeBatcher(options.redis)
  }

  async claim(key: string, claim: Claim): Promise<ClaimResult> {
    this.#batch()
    const previous = await this.#redis.setBuffer(
      this.#prefix + key,
      `${owner(claim.token)}${claim.fingerprint}`,
      'NX',
      'PX',
      claim.leaseMs,
      'GET'
    )
    if (previous === null) return { state: 'claimed' }
    if (previous[0] === IN_FLIGHT)
      return { state: 'in-flight', fingerprint: previous.subarray(previous.indexOf(NEWLINE) + 1).toString() }
    const colon = previous.indexOf(COLON)
    const fingerprintEnd = colon + 1 + Number(previous.subarray(1, colon).toString())
    return {
      state: 'completed',
      fingerprint: previous.subarray(colon + 1, fingerprintEnd).toString(),
      response: previous.subarray(fingerprintEnd)
    }
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    this.#batch()
    return (await this.#redis.idempotencyRenew(this.#prefix + key, owner(token), leaseMs)) === 1
  }

  async commit(key: string, token: string, response: Buffer | string, ttlMs: number): Promise<boolean> {
    this.#batch()
    return (await this.#redis.idempotencyCommit(this.#prefix + key, owner(token), response, ttlMs)) === 1
  }

  async release(key: string, token: string): Promise<boolean> {
    this.#batch()
    return (await this.#redis.idempotencyRelease(this.#prefix + key, owner(token))) === 1
  }
}

/**
 * Returns a function to call before sending a command: the first call of an event-loop turn
 * corks the client's socket and the turn's check phase (setImmediate) uncorks it, so every
 * command written in that turn, the application's own included, leaves in one system call
 * (node-redis does this for every command). Under load the claims and commits of many
 * requests share a write instead of one write each, and on loopback a write costs about as
 * much CPU as the rest of a command. A command still waits for its own reply: round trips per
 * request do not change. A Cluster spreads commands over several sockets: left alone.
 */
function writeBatcher(client: RedisClient): () => void {
  let corked = false
  return () => {
    // Read every time: a reconnect gives the client a new socket (a Cluster has none of its own)
    const stream = (client as { stream?: Socket }).stream
    if (corked || stream === undefined) return
    stream.cork()
    corked = true
    setImmediate(() => {
      corked = false
      stream.uncork()
    })
  }
}

/** The start of an in-flight record owned by `token`. */
function owner(token: string): string {
  return `p${token}\n`
}
