import { FENCES_PER_GRANT } from './store.js'

/**
 * Lua for the Redis store. Each script touches only the keys of one resource, which share a
 * {hash tag}, so it runs on one Redis Cluster node. Keys:
 *   record  – "lastFence:leaseEndMs:queued:holder", everything the uncontended path needs in one
 *             string: the last fence reserved, when the holder's lease ends on Redis's clock
 *             (0 = released), whether anyone may be queued (0/1), the holder's token ('' = none)
 *   queue   – waiting tokens, first come first served (only while someone waits)
 *   waiters – token → "deadlineMs|ttlMs|channel" of every queued token
 * A hand-off publishes "token|record key|fence" on the waiter's channel (one per store instance).
 *
 * The lease lives in the record rather than as the key's TTL, so the key outlives the lease and
 * keeps the fence: it expires when Redis's clock is the lease plus FENCE_MARGIN_MS past its last
 * fence, and never before the queue keys (so `queued` cannot be lost while a queue exists).
 * Each script runs its common case first and defines the queue helpers only past it: Lua
 * creates a local function when its definition runs, so the fast path pays for none of them.
 */

/**
 * The record outlives its last fence by the lease plus this. The fence only matters while it can
 * be ahead of the clock (grants within one microsecond, or a clock that stepped back), and key
 * expiry runs on that same clock: once the record has expired, TIME is past every fence it held.
 */
export const FENCE_MARGIN_MS = 1000

const RESERVED = FENCES_PER_GRANT - 1

/** The record of KEYS[1] as last, leaseEnd, queued, holder; TIME as nowUs and nowMs. */
const READ = `
local value = redis.call('GET', KEYS[1])
local last, leaseEnd, queued, holder = 0, 0, '0', ''
if value then
  last, leaseEnd, queued, holder = string.match(value, '^(%d+):(%d+):(%d):(.*)$')
  last, leaseEnd = tonumber(last), tonumber(leaseEnd)
end
local time = redis.call('TIME')
local nowUs = time[1] * 1000000 + time[2]
local nowMs = math.floor(nowUs / 1000)
`

/**
 * grant(holder, ttl, queued): makes `holder` the owner. Its fence: max(last + 1, now in µs), with
 * the next ${RESERVED} reserved for its process when the clock is past every fence handed out (so
 * fences are never more than ${FENCES_PER_GRANT} µs ahead of the clock); now + ${FENCES_PER_GRANT} when the record is gone
 * (flushed, restarted), which is above every fence handed out before. The record lives until the
 * clock is the lease plus a margin past its last fence, and at least as long as the queue.
 * Returns the fence and the last one reserved.
 */
const GRANT = `
local function grant(to, ttl, stillQueued)
  local fence = math.max(nowUs, last + 1)
  if not value then fence = nowUs + ${FENCES_PER_GRANT} end
  last = fence
  if fence == nowUs then last = fence + ${RESERVED} end
  local expiresAt = math.floor(last / 1000) + ttl + ${FENCE_MARGIN_MS}
  if stillQueued == '1' then expiresAt = math.max(expiresAt, nowMs + redis.call('PTTL', KEYS[2])) end
  redis.call('SET', KEYS[1], string.format('%d:%d:%s:%s', last, nowMs + ttl, stillQueued, to), 'PXAT', string.format('%d', expiresAt))
  value, leaseEnd, queued, holder = true, nowMs + ttl, stillQueued, to
  return fence, last
end
`

/**
 * promote(caller): for a vacant resource, the first queued waiter still within its deadline gets
 * it and is told "token|record|fence:lastFence" on its channel (unless it is the caller, who
 * learns from the reply). Returns its fence and last fence, or false when nobody live was queued.
 */
const PROMOTE = `${GRANT}
local function promote(caller)
  while true do
    local token = redis.call('LPOP', KEYS[2])
    if not token then return false end
    local info = redis.call('HGET', KEYS[3], token)
    if info then
      redis.call('HDEL', KEYS[3], token)
      local deadline, ttl, channel = string.match(info, '^(%d+)|(%d+)|(.*)$')
      if tonumber(deadline) > nowMs then
        local fence, reserved = grant(token, tonumber(ttl), tostring(redis.call('EXISTS', KEYS[2])))
        if token ~= caller then redis.call('PUBLISH', channel, string.format('%s|%s|%d:%d', token, KEYS[1], fence, reserved)) end
        return fence, reserved
      end
    end
  end
end
`

/**
 * Every attempt of an acquisition. KEYS: record, queue, waiters; ARGV: token, ttlMs, waitMs,
 * channel. Free and nobody queued: takes it and returns {1, fence, last fence reserved} (GET,
 * TIME, SET and nothing else: the queue keys are not looked at). Returns {1, fence, fence,
 * leaseLeftMs} when the token already held it (handed over while queued, its message lost or not
 * read yet: it gets the last fence reserved for it, alone), else {0, holder's leaseLeftMs},
 * queueing the token when waitMs > 0. Safe to repeat: a queued token keeps its place.
 */
export const ACQUIRE = `${READ}
local token, ttl, wait = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if leaseEnd <= nowMs and queued == '0' then
${GRANT}
  return {1, grant(token, ttl, '0')}
end
if holder == token and leaseEnd > nowMs then return {1, last, last, leaseEnd - nowMs} end
${PROMOTE}
if leaseEnd <= nowMs then
  local fence, reserved = promote(token)
  if not fence then return {1, grant(token, ttl, '0')} end
  if holder == token then return {1, fence, reserved} end
end
if wait > 0 then
  if redis.call('HEXISTS', KEYS[3], token) == 0 then
    redis.call('RPUSH', KEYS[2], token)
    redis.call('HSET', KEYS[3], token, string.format('%d|%d|%s', nowMs + wait, ttl, ARGV[4]))
    if redis.call('PTTL', KEYS[2]) < wait then
      redis.call('PEXPIRE', KEYS[2], wait)
      redis.call('PEXPIRE', KEYS[3], wait)
    end
  end
  if queued == '0' then redis.call('SET', KEYS[1], string.format('%d:%d:1:%s', last, leaseEnd, holder), 'KEEPTTL') end
  if redis.call('PTTL', KEYS[1]) < wait then redis.call('PEXPIRE', KEYS[1], wait) end
end
return {0, leaseEnd - nowMs}
`

/**
 * KEYS: record, queue, waiters; ARGV: token. If the token holds the resource: hands it to the
 * next live waiter, or marks it free (keeping the fence), and returns 1. Otherwise takes the
 * token out of the queue (and hands on a lease that ended with waiters queued) and returns 0.
 * Nobody queued: GET and SET.
 */
export const RELEASE = `
local held = redis.call('GET', KEYS[1])
if held then
  local fence, wasQueued, heldBy = string.match(held, '^(%d+):%d+:(%d):(.*)$')
  if heldBy == ARGV[1] and wasQueued == '0' then
    redis.call('SET', KEYS[1], fence .. ':0:0:', 'KEEPTTL')
    return 1
  end
end
${READ}
${PROMOTE}
if holder == ARGV[1] then
  if not promote('') then redis.call('SET', KEYS[1], string.format('%d:0:0:', last), 'KEEPTTL') end
  return 1
end
if redis.call('HDEL', KEYS[3], ARGV[1]) == 1 then redis.call('LREM', KEYS[2], 1, ARGV[1]) end
if queued == '1' and leaseEnd <= nowMs and not promote('') then redis.call('SET', KEYS[1], string.format('%d:0:0:', last), 'KEEPTTL') end
return 0
`

/**
 * KEYS: record; ARGV: token, ttlMs. Resets the lease if the token holds it and its lease has
 * not ended; the record then lives at least the new lease plus the margin. Returns 1 or 0.
 */
export const RENEW = `${READ}
if holder ~= ARGV[1] or leaseEnd <= nowMs then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], string.format('%d:%d:%s:%s', last, nowMs + ttl, queued, holder), 'PX', string.format('%d', math.max(redis.call('PTTL', KEYS[1]), ttl + ${FENCE_MARGIN_MS})))
return 1
`
