import { freshDatabase, startRedis, waitUntil } from '@moolah/test-utils'
import t from 'tap'
import { startApp, tempDataDir } from './helpers/app.js'

t.test('embedded mode: PGlite and in-process stores', async (t) => {
  const app = await startApp(t, { DATA_DIR: await tempDataDir(t) })

  const live = await app.inject('/health/live')
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })

  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), {
    status: 'ok',
    checks: { postgres: 'ok', redis: 'not-configured' },
    mode: { database: 'pglite', stores: 'in-process' }
  })
})

t.test(
  'Postgres and Redis: ready says so, goes 503 while Redis is away and recovers by itself',
  async (t) => {
    const redis = await startRedis(t)
    const app = await startApp(t, { DATABASE_URL: await freshDatabase(t), REDIS_URL: redis.url })

    const ready = await app.inject('/health/ready')
    t.equal(ready.statusCode, 200)
    t.same(ready.json(), {
      status: 'ok',
      checks: { postgres: 'ok', redis: 'ok' },
      mode: { database: 'postgres', stores: 'redis' }
    })

    await redis.stop()
    const down = await app.inject('/health/ready')
    t.equal(down.statusCode, 503)
    t.same(down.json().checks, { postgres: 'ok', redis: 'down' })

    await redis.restart()
    await waitUntil(
      async () => (await app.inject('/health/ready')).statusCode === 200,
      'ready after Redis restarted'
    )

    redis.pause()
    const started = Date.now()
    const hung = await app.inject('/health/ready')
    t.equal(hung.statusCode, 503, 'a hung Redis is down too')
    t.ok(Date.now() - started < 2000, 'and the check does not hang')
    redis.resume()
  }
)

t.test('an unreachable Postgres fails start-up with the driver error', async (t) => {
  await t.rejects(
    startApp(t, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }),
    /ECONNREFUSED|connect/
  )
})
