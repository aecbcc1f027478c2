/**
 * pnpm bench — side by side in one run, on the Redis at REDIS_URL (default 127.0.0.1:6379):
 *  (a) uncontended acquire + release cycles per second, one client;
 *  (b) hand-offs per second with 16 clients (16 connections, as 16 processes would) on one key,
 *      with the longest and p99 wait. Ratios are against redis-semaphore's Mutex.
 */
import { Redis } from 'ioredis'
import { contenders, type TakeLock } from './contenders.js'
import { cyclesPerSecond, handOffs, type HandOffResult } from './measure.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const CYCLE_MS = 3000
const HAND_OFF_MS = 3000
const CLIENTS = 16
const prefix = `bench:${process.pid}:`
const connections: Redis[] = []
const connect = (): Redis => {
  const redis = new Redis(url)
  connections.push(redis)
  return redis
}

interface Row { name: string, cycles: number, handOff: HandOffResult }
const rows: Row[] = []
try {
  for (const contender of contenders(prefix)) {
    process.stdout.write(`${contender.name}: cycles… `)
    const take = contender.client(connect())
    await cyclesPerSecond(take, 300) // warm-up: scripts loaded, connections open
    const cycles = await cyclesPerSecond(take, CYCLE_MS)
    process.stdout.write(`${cycles.toFixed(0)}/s; hand-offs… `)
    const takers: TakeLock[] = Array.from({ length: CLIENTS }, () => contender.client(connect()))
    const handOff = await handOffs(takers, HAND_OFF_MS)
    console.log(`${handOff.handOffsPerSecond.toFixed(0)}/s, max wait ${handOff.maxWaitMs} ms`)
    rows.push({ name: contender.name, cycles, handOff })
  }
  const [ours] = contenders(prefix)
  process.stdout.write(`${ours?.name} (16 callers in one process, one connection): hand-offs… `)
  const shared = ours?.client(connect()) as TakeLock
  const inProcess = await handOffs(Array.from({ length: CLIENTS }, () => shared), HAND_OFF_MS)
  console.log(`${inProcess.handOffsPerSecond.toFixed(0)}/s`)

  const base = rows.find((row) => row.name.startsWith('redis-semaphore')) as Row
  const ratio = (value: number, baseline: number): string => `${(value / baseline).toFixed(2)}×`
  console.log(`\nRedis ${url}, ${CLIENTS} contenders, ${CYCLE_MS / 1000} s per measurement; ratios vs redis-semaphore Mutex\n`)
  console.log('| lock | acquire+release /s (1 client) | ratio | hand-offs /s (16 clients, 1 key) | ratio | max wait | p99 wait |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const { name, cycles, handOff } of rows) {
    console.log(`| ${name} | ${cycles.toFixed(0)} | ${ratio(cycles, base.cycles)} | ${handOff.handOffsPerSecond.toFixed(0)} | ${ratio(handOff.handOffsPerSecond, base.handOff.handOffsPerSecond)} | ${handOff.maxWaitMs} ms | ${handOff.p99WaitMs} ms |`)
  }
  console.log(`| ${ours?.name}, 16 callers in one process | – | – | ${inProcess.handOffsPerSecond.toFixed(0)} | ${ratio(inProcess.handOffsPerSecond, base.handOff.handOffsPerSecond)} | ${inProcess.maxWaitMs} ms | ${inProcess.p99WaitMs} ms |`)
} finally {
  const cleanup = connections[0]
  if (cleanup !== undefined) {
    const keys = await cleanup.keys(`${prefix}*`)
    if (keys.length > 0) await cleanup.del(...keys)
  }
  for (const redis of connections) redis.disconnect()
}
