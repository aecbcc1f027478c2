import t from 'tap'
import { DEFAULT_SANDBOX_DELAY_MS, Sandbox, SandboxRecipients } from '../src/purchases/sandbox.js'
import { createSandboxProvider } from '../src/purchases/sandbox-provider.js'
import { never, purchase } from './helpers/providers.js'

// The sandbox's state machine where the adapters do not reach it: defaults, made-up values, closing.

t.test('the late recipient takes SANDBOX_DELAY_MS by default', async (t) => {
  t.equal(DEFAULT_SANDBOX_DELAY_MS, 5000)
  t.equal(new Sandbox().delayMs, 5000)
  t.equal(new Sandbox({ delayMs: 10 }).delayMs, 10)
})

t.test('the made-up values follow from the purchase id', async (t) => {
  const request = purchase(null, { productId: 'flash-1voucher-50' })
  const [first, second] = [new Sandbox(), new Sandbox()]
  t.same(
    await second.receive(request),
    await first.receive(request),
    'two sandboxes, one id: the same PIN and serial'
  )
  const other = await first.receive(purchase(null, { productId: 'flash-1voucher-50' }))
  t.notSame(other, await second.receive(request), 'another id: other values')
})

t.test(
  'close() in process: a late fulfilment still waiting rejects and stays processing; later requests reject',
  async (t) => {
    const sandbox = new Sandbox({ delayMs: 60_000 })
    const provider = createSandboxProvider({ sandbox })
    const late = purchase(SandboxRecipients.late)
    const answer = provider.fulfil(late, never)
    t.same(await provider.status(late.purchaseId, never), { status: 'processing' })
    await provider.close()
    await t.rejects(answer, { code: 'PROVIDER_OUTCOME_UNKNOWN', message: /closed before fulfilling/ })
    t.same(await provider.status(late.purchaseId, never), { status: 'processing' })
    await t.rejects(provider.fulfil(purchase('+27821234567'), never), {
      code: 'PROVIDER_OUTCOME_UNKNOWN',
      message: /sandbox is closed/
    })
    t.equal(sandbox.fulfilments, 0)
  }
)

t.test('createSandboxProvider makes its own sandbox', async (t) => {
  const provider = createSandboxProvider({ delayMs: 1 })
  t.teardown(() => provider.close())
  const request = purchase(SandboxRecipients.late)
  t.match(await provider.fulfil(request, never), { status: 'fulfilled' })
  const another = createSandboxProvider()
  t.teardown(() => another.close())
  t.match(await another.status(request.purchaseId, never), { status: 'not-found' }, 'each its own')
})
