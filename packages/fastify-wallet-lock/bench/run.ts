/**
 * pnpm bench — side by side in one run, on the Redis at REDIS_URL (default 127.0.0.1:6379):
 *  (a) uncontended acquire + release cycles per second, one client;
 *  (b) hand-offs per second with 16 clients (16 connections, as 16 processes would) on one key,
 *      with the longest and the p99 wait.
 * The contenders take turns in short rounds and each figure is the median of its rounds, so
 * a noisy machine hurts them all alike. Ratios are against redis-semaphore's Mutex.
 */
import { Redis } from 'ioredis'
import { closeClients, contenders, type TakeLock } from './contenders.js'
import { cyclesPerSecond, handOffs, median, percentile } from './measure.js'

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROUNDS = 5
const CYCLE_ROUND_MS = 600
const HAND_OFF_ROUNDS = 3
const HAND_OFF_ROUND_MS = 1500
const CLIENTS = 16
const prefix = `bench:${process.pid}:`
const connections: Redis[] = []
const connect = (): Redis => {
  const redis = new Redis(url)
  connections.push(redis)
  return redis
}

interface Entry { name: string, single: TakeLock, takers: TakeLock[], cycles: number[], handOffs: number[], waits: number[] }

try {
  const all = contenders(prefix)
  const entries: Entry[] = all.map((contender) => ({
    name: contender.name,
    single: contender.client(connect()),
    takers: Array.from({ length: CLIENTS }, () => contender.client(connect())),
    cycles: [],
    handOffs: [],
    waits: []
  }))
  const ours = entries[0] as Entry
  const shared = all[0]?.client(connect()) as TakeLock
  // our lock again, with the 16 callers in one process: they queue in-process first
  entries.push({ name: `${ours.name}, 16 callers in 1 process`, single: shared, takers: Array.from({ length: CLIENTS }, () => shared), cycles: [], handOffs: [], waits: [] })

  for (const entry of entries) await cyclesPerSecond(entry.single, 200) // warm-up: scripts loaded, connections open
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`cycles, round ${round}/${ROUNDS}:`)
    for (const entry of entries.slice(0, all.length)) {
      entry.cycles.push(await cyclesPerSecond(entry.single, CYCLE_ROUND_MS))
      process.stdout.write(` ${entry.cycles.at(-1)?.toFixed(0)}`)
    }
    console.log()
  }
  for (let round = 1; round <= HAND_OFF_ROUNDS; round++) {
    process.stdout.write(`hand-offs, round ${round}/${HAND_OFF_ROUNDS}:`)
    for (const entry of entries) {
      const result = await handOffs(entry.takers, HAND_OFF_ROUND_MS)
      entry.handOffs.push(result.handOffsPerSecond)
      entry.waits.push(...result.waits)
      process.stdout.write(` ${result.handOffsPerSecond.toFixed(0)}`)
    }
    console.log()
  }

  const base = entries.find((entry) => entry.name.startsWith('redis-semaphore')) as Entry
  const ratio = (value: number, baseline: number): string => `${(value / baseline).toFixed(2)}×`
  console.log(`\nRedis ${url}; ${CLIENTS} contenders; medians of ${ROUNDS} × ${CYCLE_ROUND_MS} ms (cycles) and ${HAND_OFF_ROUNDS} × ${HAND_OFF_ROUND_MS} ms (hand-offs) rounds; ratios vs redis-semaphore Mutex\n`)
  console.log('| lock | acquire+release /s (1 client) | ratio | hand-offs /s (16 clients, 1 key) | ratio | max wait | p99 wait |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const entry of entries) {
    const cycles = entry.cycles.length > 0 ? `${median(entry.cycles).toFixed(0)} | ${ratio(median(entry.cycles), median(base.cycles))}` : '– | –'
    const rate = median(entry.handOffs)
    console.log(`| ${entry.name} | ${cycles} | ${rate.toFixed(0)} | ${ratio(rate, median(base.handOffs))} | ${Math.max(...entry.waits)} ms | ${percentile(entry.waits, 0.99)} ms |`)
  }
} finally {
  await closeClients()
  const cleanup = connections[0]
  if (cleanup !== undefined) {
    const keys = await cleanup.keys(`${prefix}*`)
    if (keys.length > 0) await cleanup.del(...keys)
  }
  for (const redis of connections) redis.disconnect()
}
