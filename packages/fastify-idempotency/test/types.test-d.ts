import Fastify, { type FastifyContextConfig, type FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import idempotency, {
  MemoryIdempotencyStore,
  type IdempotencyContext,
  type IdempotencyEvent,
  type IdempotencyStore,
  type RedisIdempotencyStoreOptions
} from '../src/index.js'

const app = Fastify()
await app.register(idempotency, {
  store: new MemoryIdempotencyStore({ maxEntries: 100 }),
  scope: (request) => request.headers.authorization ?? '',
  failMode: 'closed',
  onEvent: (event: IdempotencyEvent) => {
    if (event.type === 'released') {
      const reason: 'status' | 'error' | 'too-large' | 'unstorable' = event.reason
      void reason
    }
    // @ts-expect-error -- only store-error events carry an error
    void event.error
  }
})
// @ts-expect-error -- failMode is 'closed' | 'open'
await app.register(idempotency, { failMode: 'sometimes' })
// @ts-expect-error -- encryptionKey is a Buffer
await app.register(idempotency, { encryptionKey: 'secret' })

app.post(
  '/transfers',
  { config: { idempotency: { required: true, wait: { maxMs: 1000 }, ttlSeconds: 3600 } } },
  async (request) => {
    const context: IdempotencyContext | null = request.idempotency
    return { key: context?.key, scope: context?.scope, fingerprint: context?.fingerprint }
  }
)
app.post('/plain', { config: { idempotency: false } }, async () => 'ok')
// Route shorthands infer their config type from the argument, so the merged type is checked directly.
// @ts-expect-error -- a route override must be a boolean or the documented object
const wrong: FastifyContextConfig = { idempotency: 'yes' }
// @ts-expect-error -- unknown route override
const unknownOverride: FastifyContextConfig = { idempotency: { lease: 5 } }
const valid: FastifyContextConfig = {
  idempotency: { scope: (request) => request.id, shouldStore: (status) => status === 201 }
}
void [wrong, unknownOverride, valid]

const store: IdempotencyStore = app.idempotencyStore
void store.claim('key', { token: 't', fingerprint: 'f', leaseMs: 1000 })
app.addHook('preHandler', async (request) => {
  // @ts-expect-error -- request.idempotency is data, not a function
  request.idempotency()
})
// The plugin's own request state stays off the public type: no symbol member leaks into FastifyRequest
const noSymbolMembers: [Extract<keyof FastifyRequest, symbol>] extends [never] ? true : false = true
void noSymbolMembers
// @ts-expect-error -- the old name of the wait bound
await app.register(idempotency, { wait: { timeoutMs: 1000 } })
declare const client: Redis
const storeOptions: RedisIdempotencyStoreOptions = { redis: client, prefix: 'payments:idempotency:' }
void storeOptions
