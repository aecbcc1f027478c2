// What the figures were measured on, for the report.
import { cpus, loadavg, release, type } from 'node:os'
import type { Redis } from 'ioredis'
import type postgres from 'postgres'

export interface MachineFacts {
  cores: number
  cpuModel: string
  os: string
  node: string
  postgres: string
  redis: string
}

export async function machineFacts(db: postgres.Sql, redis: Redis | undefined): Promise<MachineFacts> {
  const [row] = await db<[{ server_version: string }]>`SHOW server_version`
  const redisVersion =
    redis === undefined
      ? 'not used'
      : (/redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown')
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    os: `${type()} ${release()}`,
    node: process.version,
    postgres: row.server_version.split(' ')[0] ?? row.server_version,
    redis: redisVersion
  }
}

/** The 1-minute load average, how busy the shared machine was. */
export function loadAverage(): string {
  return (loadavg()[0] ?? 0).toFixed(2)
}
