/**
 * Lua for the Redis store. Each script touches only the four keys of one resource, which
 * share a {hash tag}, so it runs on one Redis Cluster node. Keys:
 *   KEYS[1] owner   – the holder's token, with the lease as its TTL
 *   KEYS[2] fence   – the last fencing token handed out, until the clock is well past it
 *   KEYS[3] queue   – waiting tokens, first come first served
 *   KEYS[4] waiters – token → "deadlineMs|ttlMs|channel" of every queued token
 * Hand-off publishes "token|fence" on the waiter's channel (one channel per store instance).
 */

/**
 * The fencing counter expires when Redis's clock is the lease plus this past its fence, not a day
 * later. It only matters while a fence can be ahead of the clock (grants within one microsecond,
 * or a clock that stepped back), and key expiry runs on that same clock: once the counter has
 * expired, TIME is past every fence it held. The lease keeps it longer than the owner key it was
 * issued with, whose re-check reads the fence from it.
 */
export const FENCE_MARGIN_MS = 1000

const PRELUDE = `
local owner, fenceKey, queue, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local nowUs
local function now()
  if not nowUs then
    local time = redis.call('TIME')
    nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
  end
  return nowUs
end

-- keeps the counter until the clock is ttl + margin past the fence
local function keepFence(fence, ttl)
  local expiresAt = math.floor(fence / 1000) + tonumber(ttl) + ${FENCE_MARGIN_MS}
  return redis.call('SET', fenceKey, string.format('%.0f', fence), 'PXAT', string.format('%.0f', expiresAt), 'GET')
end

-- max(last + 1, now in microseconds): still increasing after the counter is lost
local function grant(holder, ttl)
  local fence = now()
  local last = tonumber(keepFence(fence, ttl) or '0')
  if last >= fence then -- same microsecond, or the clock stepped back
    fence = last + 1
    keepFence(fence, ttl)
  end
  redis.call('SET', owner, holder, 'PX', ttl)
  return string.format('%.0f', fence)
end

-- for a vacant resource: the first waiter still within its deadline gets it; false if none
local function promote()
  while true do
    local token = redis.call('LPOP', queue)
    if not token then return false end
    local info = redis.call('HGET', waiters, token)
    redis.call('HDEL', waiters, token)
    if info then
      local deadline, ttl, channel = string.match(info, '^(%d+)|(%d+)|(.*)$')
      if tonumber(deadline) * 1000 > now() then
        redis.call('PUBLISH', channel, token .. '|' .. grant(token, ttl))
        return true
      end
    end
  end
end
`

/**
 * ARGV: token, ttlMs, waitMs, channel. Returns {1, fence} when the token owns the resource
 * (now, or because it was handed over while queued), else {0, holder's PTTL}, queueing the
 * token when waitMs > 0. Safe to repeat: a queued token keeps its place.
 */
export const ACQUIRE = `${PRELUDE}
local token, ttl, wait, channel = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local current = redis.call('GET', owner)
if not current then
  if not promote() then return {1, tonumber(grant(token, ttl))} end
  current = redis.call('GET', owner)
end
if current == token then return {1, tonumber(redis.call('GET', fenceKey))} end
local pttl = redis.call('PTTL', owner)
if wait > 0 and redis.call('HEXISTS', waiters, token) == 0 then
  redis.call('RPUSH', queue, token)
  redis.call('HSET', waiters, token, string.format('%.0f', math.floor(now() / 1000) + wait) .. '|' .. ttl .. '|' .. channel)
  if redis.call('PTTL', queue) < wait then
    redis.call('PEXPIRE', queue, wait)
    redis.call('PEXPIRE', waiters, wait)
  end
end
return {0, pttl}
`

/**
 * ARGV: token. Deletes the lock only if the token owns it and hands it to the next waiter;
 * otherwise takes the token out of the queue. Returns 1 when the token owned the lock.
 */
export const RELEASE = `${PRELUDE}
local token = ARGV[1]
if redis.call('GET', owner) == token then
  redis.call('DEL', owner)
  promote()
  return 1
end
if redis.call('HDEL', waiters, token) == 1 then redis.call('LREM', queue, 1, token) end
if redis.call('EXISTS', owner) == 0 then promote() end
return 0
`

/** KEYS[1] owner; ARGV: token, ttlMs. Resets the lease only if the token still owns it. */
export const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`
