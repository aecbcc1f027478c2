// Checked by `pnpm typecheck`, never run: proves the declaration merging users get from register().
import Fastify from 'fastify'
import walletLock, { type WalletLock, type WalletLockEvent } from '../src/index.js'

const app = Fastify()
await app.register(walletLock, {
  failMode: 'closed',
  leaseMs: 10_000,
  waitMs: 1000,
  onEvent: (event: WalletLockEvent) => {
    void event.type
  }
})
// @ts-expect-error failMode is 'closed' | 'open'
await app.register(walletLock, { failMode: 'sometimes' })
// @ts-expect-error onEvent receives one typed event
await app.register(walletLock, { onEvent: (event: { type: 'unknown' }) => event })

const lock: WalletLock = await app.walletLock.acquire(['w1', 'w2'], {
  leaseMs: 5000,
  waitMs: 0,
  signal: AbortSignal.timeout(100)
})
const fence: number = lock.fence
const fences: Readonly<Record<string, number>> = lock.fences
const held: Promise<boolean> = lock.release()
void [fence, fences, held]
// @ts-expect-error resources are strings
await app.walletLock.acquire(42)
const total: number = await app.walletLock.withLock('w1', async (l) => l.fence + 1)
void total

app.post('/transfers', { config: { walletLock: (request) => [String(request.id)] } }, async (request) => {
  const current: WalletLock | null = request.walletLock
  return { fence: current?.fence, aborted: current?.signal.aborted }
})
app.post(
  '/tuned',
  { config: { walletLock: { resources: () => 'w1', leaseMs: 1000, waitMs: 0 } } },
  async () => 'ok'
)
// @ts-expect-error the resolver returns ids, not numbers
app.post('/wrong', { config: { walletLock: () => 42 } }, async () => 'no')
// @ts-expect-error per-route options need a resources resolver
app.post('/wrong-shape', { config: { walletLock: { leaseMs: 1000 } } }, async () => 'no')
