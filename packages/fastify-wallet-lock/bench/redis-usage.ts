import type { Redis } from 'ioredis'

/** Commands a connection has sent (the check key's INCRs aside): each is a round trip or part of one. */
export interface CommandCounter {
  sent: number
}

/** Counts the lock commands sent on `redis` into `counter`. */
export function countCommands(redis: Redis, counter: CommandCounter): Redis {
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = (command, stream) => {
    if (command.name !== 'incr') counter.sent++
    return send(command, stream)
  }
  return redis
}

export interface ServerUsage {
  /** Redis's own CPU time (user + system), µs. */
  cpuUs: number
  /** Commands Redis ran, those inside Lua scripts included; the check INCRs and INFO aside. */
  calls: number
}

/** Redis's CPU and command counts so far, from INFO. Differences of two readings give a round's cost. */
export async function serverUsage(admin: Redis): Promise<ServerUsage> {
  const [cpu, commands] = await Promise.all([admin.info('cpu'), admin.info('commandstats')])
  const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0)
  let calls = 0
  for (const [, name, count] of commands.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) {
    if (name !== 'incr' && name !== 'info') calls += Number(count)
  }
  return { cpuUs: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6, calls }
}
