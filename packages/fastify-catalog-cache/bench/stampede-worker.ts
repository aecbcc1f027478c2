// One process of the cross-process stampede: set up, say "ready", wait for the parent's "go"
// (sent once every worker is ready), then fire its share of concurrent cold gets. Every loader
// call is counted in Redis.
import { Redis } from 'ioredis'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildCatalog } from './catalog.js'
import { createContender, REDIS_URL, type ContenderName } from './contenders.js'

const [name, prefix, requests] = process.argv.slice(2) as [ContenderName, string, string]
const counter = new Redis(REDIS_URL)
const contender = await createContender(name, prefix, async () => {
  await sleep(100)
  await counter.incr(`${prefix}loads`)
  return buildCatalog()
})
process.stdout.write('ready\n')
await once(createInterface({ input: process.stdin }), 'line')
await Promise.all(Array.from({ length: Number(requests) }, () => contender.get('catalog')))
// Exit without closing: some clients reject their queued commands on close, and the count is already in Redis
process.exit(0)
