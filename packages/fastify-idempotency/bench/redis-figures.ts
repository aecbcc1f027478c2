import { Redis } from 'ioredis'

/** CPU time the Redis server has used so far (all its clients, not only the benchmark's), in microseconds. */
export async function redisCpuMicros(redis: Redis): Promise<number> {
  const info = await redis.info('cpu')
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6
}

/**
 * Counts the Redis commands clients send that name a key under `prefix`, from MONITOR: every
 * candidate has its own prefix, so neither other candidates nor other users of a shared Redis
 * are counted, whatever client library the candidate uses. Commands a Lua script runs are
 * not round trips and are left out.
 */
export async function countCommands(
  redisUrl: string,
  prefix: string,
  work: () => Promise<void>
): Promise<number> {
  const client = new Redis(redisUrl)
  const monitor = await client.monitor() // a connection of its own, in monitoring mode
  // ioredis takes MONITOR lines that arrive with MONITOR's own OK for stray replies and
  // reports an error: harmless before the work starts (those lines are not ours), fatal after.
  let counting = false
  let failure: unknown
  monitor.on('error', (error: unknown) => {
    if (counting) failure = error
  })
  let count = 0
  const marker = `${prefix}end-of-count`
  const ended = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args.includes(marker)) resolve()
      else if (source !== 'lua' && args.some((arg) => arg.includes(prefix))) count++
    })
  })
  try {
    counting = true
    await work()
    // MONITOR lines arrive a little after the replies: wait for a command sent after the work.
    const redis = new Redis(redisUrl)
    await redis.echo(marker)
    redis.disconnect()
    await ended
    if (failure !== undefined) throw failure
    return count
  } finally {
    monitor.disconnect()
    client.disconnect()
  }
}
