import { setTimeout as sleep } from 'node:timers/promises'
import { once } from 'node:events'
import t from 'tap'
import { startRedisCluster } from '../src/index.js'

t.test('by default a real 3-master cluster with every slot assigned', async (t) => {
  const cluster = await startRedisCluster(t)
  t.equal(cluster.nodes.length, 3)
  const client = cluster.createClient()

  const slots = (await client.cluster('SLOTS')) as Array<[number, number, ...unknown[]]>
  t.equal(slots.length, 3, 'one slot range per master')
  t.equal(
    slots.reduce((sum, [from, to]) => sum + to - from + 1, 0),
    16384,
    'all slots are covered'
  )

  // Keys that hash to different slots land on different masters, and a cross-slot
  // multi-key command is refused: the property the plugins' key design must respect.
  for (let i = 0; i < 50; i++) await client.set(`key:${i}`, String(i))
  const perNode = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
  t.equal(perNode.filter((n) => n > 0).length, 3, 'keys are spread over all masters')
  await t.rejects(client.mget('key:1', 'key:2'), /CROSSSLOT|slot/i)
  t.same(await client.mget('{tag}:a', '{tag}:b'), [null, null], 'hash-tagged keys share a slot')

  const ended = once(client, 'end').then(() => 'ended')
  await cluster.stop()
  t.equal(
    await Promise.race([ended, sleep(5000, 'still open')]),
    'ended',
    'stop() disconnects the clients it made'
  )
})

t.test('refuses fewer than 3 masters', async (t) => {
  await t.rejects(startRedisCluster(t, { masters: 2 }), /at least 3 masters/)
})
