/**
 * One service instance of the cross-process rows (`pnpm bench` forks several): for every lock,
 * one Redis connection and one lock client shared by its callers, as the concurrent requests of
 * one process share them. On the parent's message it runs a hot-key round with one lock and
 * reports what it saw. argv: Redis URL, key prefix, instance number, callers.
 */
import { Redis } from 'ioredis'
import { closeClients, contenders } from './contenders.js'
import { hotKey, type Caller, type HotKeyRound } from './measure.js'
import { countCommands, type CommandCounter } from './redis-usage.js'

export interface RoundRequest {
  lock: number
  ms: number
  checkKey: string
}

export interface RoundReport extends HotKeyRound {
  cpuUs: number
  commands: number
}

const [url, prefix, instance, callers] = process.argv.slice(2) as [string, string, string, string]
const counter: CommandCounter = { sent: 0 }
const connections: Redis[] = []
const locks = contenders(prefix).map((contender) => {
  const redis = countCommands(new Redis(url), counter)
  connections.push(redis)
  const take = contender.client(redis)
  return Array.from({ length: Number(callers) }, (_, i): Caller => ({
    take,
    redis,
    holder: `${instance}.${i}`
  }))
})

for (const [first] of locks) {
  for (let i = 0; i < 50; i++) await (await (first as Caller).take(`warm-up:${instance}`))() // scripts loaded, connections open
}
process.on('message', (request: RoundRequest) => {
  const cpu = process.cpuUsage()
  counter.sent = 0
  let used = { cpuUs: 0, commands: 0 }
  const atStop = (): void => {
    const { user, system } = process.cpuUsage(cpu)
    used = { cpuUs: user + system, commands: counter.sent }
  }
  void hotKey(locks[request.lock] as Caller[], request.checkKey, request.ms, atStop).then((round) => {
    process.send?.({ ...round, ...used } satisfies RoundReport)
  })
})
process.once('disconnect', () => {
  void closeClients().then(() => {
    for (const redis of connections) redis.disconnect()
  })
})
process.send?.('ready')
