import t from 'tap'
import { Cleanup } from '../src/index.js'

t.test('runs what was registered, last first, once', async (t) => {
  const ran: string[] = []
  const cleanup = new Cleanup()
  cleanup.teardown(() => {
    ran.push('database')
  })
  cleanup.teardown(async () => {
    ran.push('redis')
  })
  await cleanup.run()
  t.same(ran, ['redis', 'database'])
  await cleanup.run()
  t.same(ran, ['redis', 'database'], 'a second run has nothing left to do')
})
