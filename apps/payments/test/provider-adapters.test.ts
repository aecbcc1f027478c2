import { waitUntil, type Teardown } from '@moolah/test-utils'
import t from 'tap'
import { SandboxRecipients } from '../src/purchases/sandbox.js'
import { inProcessRig, never, overHttpRig, purchase, type Rig } from './helpers/providers.js'

// Every sandbox behaviour through both adapters: the sandbox in process and the HTTP provider
// against the sandbox server on a real socket. The two must be indistinguishable to the
// purchase flow: the same outcomes, the same rejections, the same `status` afterwards.

const LATE_MS = 400
const adapters: Record<string, (t: Teardown) => Promise<Rig>> = {
  'in process': (t) => inProcessRig(t, LATE_MS),
  'over HTTP': (t) => overHttpRig(t, LATE_MS)
}

const unknown = { code: 'PROVIDER_OUTCOME_UNKNOWN' }

for (const [name, start] of Object.entries(adapters)) {
  t.test(name, async (t) => {
    t.test('fulfils at once, with the fields of the product kind', async (t) => {
      const { provider, sandbox } = await start(t)
      const airtime = purchase('+27821234567')
      const voucher = purchase(null, { productId: 'flash-1voucher-50', amount: 5000 })
      const electricity = purchase('12345678901', {
        provider: 'easypay',
        productId: 'easypay-electricity-city-of-tshwane',
        amount: 25000
      })

      const airtimeOutcome = await provider.fulfil(airtime, never)
      t.match(airtimeOutcome, { status: 'fulfilled', fulfilment: { serial: /^SBX\d{12}$/ } })
      t.same(Object.keys((airtimeOutcome as { fulfilment: object }).fulfilment), ['serial'])
      t.match(await provider.fulfil(voucher, never), {
        status: 'fulfilled',
        fulfilment: { pin: /^\d{16}$/, serial: /^SBX/ }
      })
      t.match(await provider.fulfil(electricity, never), {
        status: 'fulfilled',
        fulfilment: { token: /^\d{4}(-\d{4}){4}$/, units: '100.0 kWh' }
      })
      t.equal(sandbox.fulfilments, 3)
      t.same(
        await provider.status(airtime.purchaseId, never),
        airtimeOutcome,
        'status answers the same outcome'
      )
    })

    t.test('one purchase id: one fulfilment, the same outcome however often it is asked', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase('+27821234567')
      const [first, second] = await Promise.all([
        provider.fulfil(request, never),
        provider.fulfil(request, never)
      ])
      t.same(second, first)
      t.same(
        await provider.fulfil({ ...request, productId: 'flash-vodacom-airtime-55', amount: 5500 }, never),
        first,
        'the first request decides the outcome'
      )
      t.equal(sandbox.fulfilments, 1)
    })

    t.test('+27000000402: declined, for certain', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase(SandboxRecipients.declined)
      t.same(await provider.fulfil(request, never), { status: 'failed', failureCode: 'DECLINED' })
      t.same(await provider.status(request.purchaseId, never), { status: 'failed', failureCode: 'DECLINED' })
      t.equal(sandbox.fulfilments, 0)
    })

    t.test('+27000000500: fails, for certain', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase(SandboxRecipients.fails)
      t.same(await provider.fulfil(request, never), { status: 'failed', failureCode: 'PROVIDER_ERROR' })
      t.same(
        await provider.fulfil(request, never),
        { status: 'failed', failureCode: 'PROVIDER_ERROR' },
        'and again'
      )
      t.same(await provider.status(request.purchaseId, never), {
        status: 'failed',
        failureCode: 'PROVIDER_ERROR'
      })
      t.equal(sandbox.fulfilments, 0)
    })

    t.test(
      '+27000000504: processing, then fulfilled and answered late; a retry meanwhile waits for the same outcome',
      async (t) => {
        const { provider, sandbox } = await start(t)
        const request = purchase(SandboxRecipients.late)
        const answer = provider.fulfil(request, never)
        await waitUntil(
          async () => (await provider.status(request.purchaseId, never)).status === 'processing',
          'the request to arrive'
        )
        const retry = provider.fulfil(request, never)
        t.equal(sandbox.fulfilments, 0, 'not fulfilled while processing')
        const outcome = await answer
        t.match(outcome, { status: 'fulfilled', fulfilment: { serial: /^SBX/ } })
        t.same(await retry, outcome)
        t.same(await provider.status(request.purchaseId, never), outcome)
        t.same(await provider.fulfil(request, never), outcome, 'once fulfilled, a retry answers at once')
        t.equal(sandbox.fulfilments, 1)
      }
    )

    t.test(
      '+27000000504 when the caller gives up: the call rejects, the sandbox still fulfils',
      async (t) => {
        const { provider, sandbox } = await start(t)
        const request = purchase(SandboxRecipients.late)
        const caller = new AbortController()
        const answer = provider.fulfil(request, caller.signal)
        await waitUntil(
          async () => (await provider.status(request.purchaseId, never)).status === 'processing',
          'the request to arrive'
        )
        caller.abort()
        await t.rejects(answer, { ...unknown, message: /aborted/ })
        await waitUntil(
          async () => (await provider.status(request.purchaseId, never)).status === 'fulfilled',
          'the late fulfilment'
        )
        t.equal(sandbox.fulfilments, 1)
      }
    )

    t.test('+27000000599: fulfilled, but the answer is lost, every time', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase(SandboxRecipients.answerLost)
      await t.rejects(provider.fulfil(request, never), unknown)
      t.match(await provider.status(request.purchaseId, never), {
        status: 'fulfilled',
        fulfilment: { serial: /^SBX/ }
      })
      await t.rejects(provider.fulfil(request, never), unknown, 'a retry loses its answer too')
      t.equal(sandbox.fulfilments, 1, 'and fulfils nothing more')
    })

    t.test('+27000000404: the request never arrives', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase(SandboxRecipients.neverReached)
      await t.rejects(provider.fulfil(request, never), unknown)
      await t.rejects(provider.fulfil(request, never), unknown)
      t.same(await provider.status(request.purchaseId, never), { status: 'not-found' })
      t.equal(sandbox.fulfilments, 0)
    })

    t.test('an aborted signal: nothing is sent, nothing is asked', async (t) => {
      const { provider, sandbox } = await start(t)
      const request = purchase('+27821234567')
      await t.rejects(provider.fulfil(request, AbortSignal.abort()), unknown)
      await t.rejects(provider.status(request.purchaseId, AbortSignal.abort()), {
        code: 'PROVIDER_STATUS_UNAVAILABLE'
      })
      t.same(await provider.status(request.purchaseId, never), { status: 'not-found' })
      t.equal(sandbox.fulfilments, 0)
    })
  })
}
