/**
 * Lua scripts, registered once per client with defineCommand (EVALSHA with a NOSCRIPT
 * fallback). Every script touches only the keys of one catalog, which share a
 * {hash tag}, so they run on Redis Cluster too.
 */
export const scripts = {
  // KEYS: lock, generation. ARGV: token, ttl ms. → generation when taken, -1 when held by someone else.
  catalogCacheLock: {
    numberOfKeys: 2,
    lua: `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return -1`
  },
  // KEYS: lock. ARGV: token. Compare-and-delete, so an expired holder cannot free a new holder's lock.
  catalogCacheUnlock: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`
  },
  // KEYS: entry, generation. ARGV: generation, payload, ttl ms. → 1 stored, 0 invalidated meanwhile.
  catalogCacheWrite: {
    numberOfKeys: 2,
    lua: `if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`
  },
  // KEYS: entry, generation, lock. ARGV: '1' to keep the entry. → the new generation.
  catalogCacheInvalidate: {
    numberOfKeys: 3,
    lua: `local generation = redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[3])
if ARGV[1] ~= '1' then redis.call('DEL', KEYS[1]) end
return generation`
  }
} as const

export interface CatalogCacheCommands {
  catalogCacheLock(lock: string, generation: string, token: string, ttlMs: number): Promise<number>
  catalogCacheUnlock(lock: string, token: string): Promise<number>
  catalogCacheWrite(entry: string, generation: string, expected: number, payload: string, ttlMs: number): Promise<number>
  catalogCacheInvalidate(entry: string, generation: string, lock: string, keepEntry: '1' | '0'): Promise<number>
}
