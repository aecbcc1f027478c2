// One process of the cross-process stampede: waits for the common start time, then fires its
// share of concurrent cold gets; every loader call is counted in Redis.
import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildCatalog } from './catalog.js'
import { createContender, REDIS_URL, type ContenderName } from './contenders.js'

const [name, prefix, startAt, requests] = process.argv.slice(2) as [ContenderName, string, string, string]
const counter = new Redis(REDIS_URL)
const contender = await createContender(name, prefix, async () => {
  await sleep(100)
  await counter.incr(`${prefix}loads`)
  return buildCatalog()
})
await sleep(Math.max(0, Number(startAt) - Date.now()))
await Promise.all(Array.from({ length: Number(requests) }, () => contender.get('catalog')))
await contender.close()
counter.disconnect()
