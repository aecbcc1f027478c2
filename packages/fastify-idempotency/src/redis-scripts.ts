/**
 * The Redis record is one string per key, so it runs unchanged on Redis Cluster:
 *   in flight:  'p' .. token .. '\n' .. fingerprint          (key expiry = the lease)
 *   completed:  'c' .. #fingerprint .. ':' .. fingerprint .. response bytes   (key expiry = the TTL)
 * The claim is a plain `SET key value NX PX lease GET` (Redis ≥ 7.0): no script, one
 * round trip, and the old value comes back when the key is taken. The owner-checked
 * writes below are single-key Lua scripts; ARGV[1] is always the owner prefix 'p' .. token .. '\n'.
 */

const OWNED = `
local record = redis.call('GET', KEYS[1])
if not record or string.sub(record, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
`

/** KEYS[1] record; ARGV owner prefix, leaseMs → 1 renewed | 0 not the owner */
export const RENEW = `${OWNED}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`

/** KEYS[1] record; ARGV owner prefix, response bytes, ttlMs → 1 committed | 0 not the owner */
export const COMMIT = `${OWNED}
local fingerprint = string.sub(record, #ARGV[1] + 1)
redis.call('SET', KEYS[1], 'c' .. #fingerprint .. ':' .. fingerprint .. ARGV[2], 'PX', ARGV[3])
return 1
`

/** KEYS[1] record; ARGV owner prefix → 1 released | 0 not the owner */
export const RELEASE = `${OWNED}
redis.call('DEL', KEYS[1])
return 1
`
