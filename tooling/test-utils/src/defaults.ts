export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

export function redisUrl(): string {
  return process.env.REDIS_URL ?? DEFAULT_REDIS_URL
}

export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
}
