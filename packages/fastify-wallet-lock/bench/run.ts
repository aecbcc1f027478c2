/**
 * pnpm bench — every lock side by side in one run, on a private redis-server (or REDIS_URL):
 *  (a) uncontended acquire + release cycles per second, one client;
 *  (b) one hot key and 16 callers looping acquire → checked section → release, in three shapes:
 *      16 clients on their own connections in one process; 16 callers sharing one client in one
 *      process; 4 processes (service instances) × 4 callers sharing their process's client.
 * Next to every rate: round trips (commands sent) and Redis calls (those inside Lua included)
 * per operation, and the CPU the clients and Redis spent per operation. The locks take turns
 * in short rounds and rates are medians of rounds, so a noisy machine hurts them all alike.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { Cleanup, startRedis } from '@moolah/test-utils'
import { Redis } from 'ioredis'
import type { Section } from './checked-section.js'
import { closeClients, contenders, type TakeLock } from './contenders.js'
import { hotKey, uncontended, type Caller } from './measure.js'
import { countCommands, serverUsage, type CommandCounter, type ServerUsage } from './redis-usage.js'
import { handOffs, maximum, median, percentile } from './stats.js'
import type { RoundReport, RoundRequest } from './worker.js'

const CYCLE_ROUNDS = 5
const CYCLE_ROUND_MS = 600
const HOT_ROUNDS = 3
const HOT_ROUND_MS = 1500
const CALLERS = 16
const PROCESSES = 4

/** What one measurement cost: operations, commands sent, Redis calls, client and Redis CPU (µs). */
interface Cost {
  ops: number
  commands: number
  calls: number
  clientCpuUs: number
  redisCpuUs: number
}

interface HotRound {
  sections: Section[]
  waits: number[]
  cost: Omit<Cost, 'ops'>
}

/** One way of putting 16 callers on the hot key. */
interface Shape {
  name: string
  round(lock: number, checkKey: string): Promise<HotRound>
}

const cleanup = new Cleanup()
const url = process.env.REDIS_URL ?? (await startRedis(cleanup)).url
const prefix = `bench:${process.pid}:`
const admin = new Redis(url)
const counter: CommandCounter = { sent: 0 }
const connections: Redis[] = [admin]
const connect = (): Redis => {
  const redis = countCommands(new Redis(url), counter)
  connections.push(redis)
  return redis
}
const workers: ChildProcess[] = []

type Reading = { cpu: NodeJS.CpuUsage; commands: number; redis: Promise<ServerUsage> }

/** Client CPU, commands sent and Redis's usage so far; `since` turns two readings into a cost. */
function reading(): Reading {
  return { cpu: process.cpuUsage(), commands: counter.sent, redis: serverUsage(admin) }
}
async function since(start: Reading, end: Reading): Promise<Omit<Cost, 'ops'>> {
  const [before, after] = await Promise.all([start.redis, end.redis])
  return {
    commands: end.commands - start.commands,
    calls: after.calls - before.calls,
    clientCpuUs: end.cpu.user + end.cpu.system - start.cpu.user - start.cpu.system,
    redisCpuUs: after.cpuUs - before.cpuUs
  }
}

try {
  const all = contenders(prefix)
  const singles = all.map((contender) => contender.client(connect()))

  const inProcess = (name: string, callersOf: (lock: number) => Caller[]): Shape => {
    const callers = all.map((_, lock) => callersOf(lock))
    return {
      name,
      async round(lock, checkKey) {
        const start = reading()
        let end = start
        const round = await hotKey(callers[lock] as Caller[], checkKey, HOT_ROUND_MS, () => {
          end = reading()
        })
        return { ...round, cost: await since(start, end) }
      }
    }
  }
  const separate = inProcess(`${CALLERS} clients, 1 process`, (lock) =>
    Array.from({ length: CALLERS }, (_, i) => {
      const redis = connect()
      return { take: (all[lock] as (typeof all)[number]).client(redis), redis, holder: `0.${i}` }
    })
  )
  const shared = inProcess(`${CALLERS} callers sharing 1 client`, (lock) => {
    const redis = connect()
    const take: TakeLock = (all[lock] as (typeof all)[number]).client(redis)
    return Array.from({ length: CALLERS }, (_, i) => ({ take, redis, holder: `0.${i}` }))
  })

  const script = fileURLToPath(new URL('worker.ts', import.meta.url))
  for (let i = 0; i < PROCESSES; i++) {
    const worker = fork(script, [url, prefix, String(i + 1), String(CALLERS / PROCESSES)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    workers.push(worker)
  }
  await Promise.all(workers.map((worker) => once(worker, 'message')))
  const processes: Shape = {
    name: `${PROCESSES} processes × ${CALLERS / PROCESSES} callers`,
    async round(lock, checkKey) {
      const start = reading()
      const reports = workers.map((worker) => once(worker, 'message') as Promise<[RoundReport]>)
      for (const worker of workers) worker.send({ lock, ms: HOT_ROUND_MS, checkKey } satisfies RoundRequest)
      await new Promise((resolve) => setTimeout(resolve, HOT_ROUND_MS))
      const end = reading()
      const done = (await Promise.all(reports)).map(([report]) => report)
      const cost = await since(start, end)
      return {
        sections: done.flatMap((report) => report.sections),
        waits: done.flatMap((report) => report.waits),
        cost: {
          ...cost,
          commands: done.reduce((sum, report) => sum + report.commands, 0),
          clientCpuUs: done.reduce((sum, report) => sum + report.cpuUs, 0)
        }
      }
    }
  }
  const shapes = [separate, shared, processes]

  // (a) uncontended cycles
  for (const take of singles) await uncontended(take, 300) // warm-up: scripts loaded, connections open
  const cycles = all.map(() => ({
    rates: [] as number[],
    cost: { ops: 0, commands: 0, calls: 0, clientCpuUs: 0, redisCpuUs: 0 } as Cost
  }))
  for (let round = 1; round <= CYCLE_ROUNDS; round++) {
    process.stdout.write(`cycles, round ${round}/${CYCLE_ROUNDS}:`)
    for (const [lock, take] of singles.entries()) {
      const entry = cycles[lock] as (typeof cycles)[number]
      const start = reading()
      const { cycles: count, perSecond: rate } = await uncontended(take, CYCLE_ROUND_MS)
      const cost = await since(start, reading())
      entry.rates.push(rate)
      entry.cost.ops += count
      entry.cost.commands += cost.commands
      entry.cost.calls += cost.calls
      entry.cost.clientCpuUs += cost.clientCpuUs
      entry.cost.redisCpuUs += cost.redisCpuUs
      process.stdout.write(` ${rate.toFixed(0)}`)
    }
    console.log()
  }

  // (b) the hot key
  const hot = shapes.map(() =>
    all.map(() => ({
      rates: [] as number[],
      waits: [] as number[],
      overlaps: 0,
      cost: { ops: 0, commands: 0, calls: 0, clientCpuUs: 0, redisCpuUs: 0 } as Cost
    }))
  )
  let checks = 0
  for (let round = 1; round <= HOT_ROUNDS; round++) {
    for (const [s, shape] of shapes.entries()) {
      process.stdout.write(`hand-offs, ${shape.name}, round ${round}/${HOT_ROUNDS}:`)
      for (const lock of all.keys()) {
        const entry = hot[s]?.[lock] as (typeof hot)[number][number]
        const result = await shape.round(lock, `${prefix}check:${checks++}`)
        const { handOffs: count, overlaps } = handOffs(result.sections)
        entry.rates.push((count * 1000) / HOT_ROUND_MS)
        for (const wait of result.waits) entry.waits.push(wait)
        entry.overlaps += overlaps
        entry.cost.ops += count
        entry.cost.commands += result.cost.commands
        entry.cost.calls += result.cost.calls
        entry.cost.clientCpuUs += result.cost.clientCpuUs
        entry.cost.redisCpuUs += result.cost.redisCpuUs
        process.stdout.write(
          ` ${entry.rates.at(-1)?.toFixed(0)}${overlaps > 0 ? ` (${overlaps} OVERLAPS)` : ''}`
        )
      }
      console.log()
    }
  }

  const per = (value: number, ops: number, digits = 1): string =>
    ops > 0 ? (value / ops).toFixed(digits) : '–'
  const semaphore = all.findIndex((contender) => contender.name.startsWith('redis-semaphore'))
  console.log(
    `\nRedis ${process.env.REDIS_URL ?? 'private redis-server'}; medians of ${CYCLE_ROUNDS} × ${CYCLE_ROUND_MS} ms (cycles) and ${HOT_ROUNDS} × ${HOT_ROUND_MS} ms (hot key) interleaved rounds\n`
  )
  console.log('Uncontended acquire + release, 1 client (ratio vs redis-semaphore Mutex)\n')
  console.log(
    "| lock | cycles/s | ratio | round trips / cycle | Redis calls / cycle (Lua's included) | client CPU µs / cycle | Redis CPU µs / cycle |"
  )
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const [lock, contender] of all.entries()) {
    const { rates, cost } = cycles[lock] as (typeof cycles)[number]
    const base = median((cycles[semaphore] as (typeof cycles)[number]).rates)
    console.log(
      `| ${contender.name} | ${median(rates).toFixed(0)} | ${(median(rates) / base).toFixed(2)}× | ${per(cost.commands, cost.ops)} | ${per(cost.calls, cost.ops)} | ${per(cost.clientCpuUs, cost.ops, 0)} | ${per(cost.redisCpuUs, cost.ops, 0)} |`
    )
  }
  console.log(
    `\nOne hot key, ${CALLERS} callers (ratio vs the best other lock of the same shape; per hand-off: commands sent, Redis calls, CPU)\n`
  )
  console.log(
    '| lock | shape | hand-offs/s | ratio | p50 wait | p99 wait | max wait | overlaps | round trips / hand-off | Redis calls / hand-off | client CPU µs / hand-off | Redis CPU µs / hand-off |'
  )
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const [s, shape] of shapes.entries()) {
    const entries = hot[s] as (typeof hot)[number]
    for (const [lock, contender] of all.entries()) {
      const { rates, waits, overlaps, cost } = entries[lock] as (typeof entries)[number]
      const best = Math.max(
        ...entries.filter((_, other) => other !== lock).map((entry) => median(entry.rates))
      )
      console.log(
        `| ${contender.name} | ${shape.name} | ${median(rates).toFixed(0)} | ${(median(rates) / best).toFixed(2)}× | ${percentile(waits, 0.5)} ms | ${percentile(waits, 0.99)} ms | ${maximum(waits)} ms | ${overlaps} | ${per(cost.commands, cost.ops)} | ${per(cost.calls, cost.ops)} | ${per(cost.clientCpuUs, cost.ops, 0)} | ${per(cost.redisCpuUs, cost.ops, 0)} |`
      )
    }
  }
} finally {
  for (const worker of workers) worker.disconnect()
  await closeClients()
  if (process.env.REDIS_URL !== undefined) {
    const keys = await admin.keys(`${prefix}*`)
    if (keys.length > 0) await admin.del(...keys)
  }
  for (const redis of connections) redis.disconnect()
  await cleanup.run()
}
