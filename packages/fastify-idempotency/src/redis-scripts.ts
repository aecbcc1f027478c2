/**
 * Lua scripts of the Redis store. Each touches exactly one key (the record, a hash:
 * s = state 'p' in flight | 'c' completed, t = owner token, f = fingerprint,
 * r = response bytes), so they run unchanged on Redis Cluster. The key's own
 * expiry is the lease while in flight and the retention TTL once completed.
 */

/** KEYS[1] record; ARGV token, fingerprint, leaseMs → {'claimed'} | {'in-flight', fp, pttl} | {'completed', fp, bytes} */
export const CLAIM = `
local rec = redis.call('HMGET', KEYS[1], 's', 'f', 'r')
if not rec[1] then
  redis.call('HSET', KEYS[1], 's', 'p', 't', ARGV[1], 'f', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if rec[1] == 'c' then return {'completed', rec[2], rec[3]} end
return {'in-flight', rec[2], redis.call('PTTL', KEYS[1])}
`

// Every write below is owner-checked: only the in-flight claim of ARGV[1] may change.
const OWNED = `
local rec = redis.call('HMGET', KEYS[1], 's', 't')
if rec[1] ~= 'p' or rec[2] ~= ARGV[1] then return 0 end
`

/** KEYS[1] record; ARGV token, leaseMs → 1 renewed | 0 not the owner */
export const RENEW = `${OWNED}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`

/** KEYS[1] record; ARGV token, response bytes, ttlMs → 1 committed | 0 not the owner */
export const COMMIT = `${OWNED}
redis.call('HSET', KEYS[1], 's', 'c', 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

/** KEYS[1] record; ARGV token → 1 released | 0 not the owner */
export const RELEASE = `${OWNED}
redis.call('DEL', KEYS[1])
return 1
`
