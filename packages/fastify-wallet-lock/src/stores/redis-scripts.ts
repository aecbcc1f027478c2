import { FENCES_PER_GRANT } from './store.js'

/**
 * Lua for the Redis store. Each script touches only the keys of one resource, which share a
 * {hash tag}, so it runs on one Redis Cluster node. Keys:
 *   record  – "lastFence:queued:holder": the last fence handed out or reserved, whether anyone
 *             may be queued (0/1), the holder's token ('' = released). The key's TTL is the
 *             holder's lease: while held, the record exists exactly as long as the lease; once
 *             released it keeps the rest of that TTL, so the next acquisition usually finds the
 *             last fence there.
 *   queue   – waiting tokens, first come first served (only while someone waits)
 *   waiters – token → "deadlineMs|leaseMs|channel|reserve" of every queued token
 * A hand-off publishes "token|record key|fence:lastFence" on the waiter's channel (one per store).
 *
 * Fences: `last + 1` while the record exists — no clock needed, the common case. Redis's clock
 * (TIME) is read only when the record is missing (never used, expired, flushed, restarted,
 * evicted: the fence is then floored at now + ${FENCES_PER_GRANT} µs) and when a grant may reserve a block of
 * fences (only once the clock is past every fence handed out). So every fence ever handed out is
 * at most ${FENCES_PER_GRANT - 1} µs ahead of the clock it was handed out at, plus one per grant since — and each
 * grant is a script run that takes longer than 1 µs. The floor is therefore above every fence
 * handed out before the record went missing.
 * Each script runs its common case first and defines the rest only past it: Lua creates a local
 * function when its definition runs, so the fast path pays for none of them.
 */

const RESERVED = FENCES_PER_GRANT - 1

/** The record of KEYS[1] (read as `value`) as last, queued, holder. */
const PARSE = `
local last, queued, holder = 0, '0', ''
if value then
  last, queued, holder = string.match(value, '^(%d+):(%d):(.*)$')
  last = tonumber(last)
end
`

/**
 * grant(to, leaseMs, reserve, stillQueued): makes `to` the holder for `leaseMs`; returns its fence
 * and the last one reserved. The fence is last + 1; with no record, the clock floor (no block);
 * with `reserve` ('1') and the clock past every fence handed out, the clock, with the next
 * ${RESERVED} reserved for the grantee's process.
 */
const GRANT = `
local function grant(to, leaseMs, reserve, stillQueued)
  local fence = last + 1
  local reserved = fence
  if not value or reserve == '1' then
    local time = redis.call('TIME')
    local nowUs = time[1] * 1000000 + time[2]
    if not value then
      fence = math.max(fence, nowUs + ${FENCES_PER_GRANT})
      reserved = fence
    elseif nowUs >= fence then
      fence = nowUs
      reserved = nowUs + ${RESERVED}
    end
  end
  redis.call('SET', KEYS[1], string.format('%d:%s:%s', reserved, stillQueued, to), 'PX', leaseMs)
  value, last, queued, holder = true, reserved, stillQueued, to
  return fence, reserved
end
`

/**
 * promote(caller): for a vacant resource, the first queued waiter still within its deadline gets
 * it and is told "token|record|fence:lastFence" on its channel (unless it is the caller, who
 * learns from the reply). Returns its fence and last fence, or false when nobody live was queued.
 */
const PROMOTE = `${GRANT}
local function promote(caller)
  local nowMs = nil
  while true do
    local token = redis.call('LPOP', KEYS[2])
    if not token then return false end
    local info = redis.call('HGET', KEYS[3], token)
    if info then
      redis.call('HDEL', KEYS[3], token)
      local deadline, leaseMs, channel, reserve = string.match(info, '^(%d+)|(%d+)|(.*)|(%d)$')
      if not nowMs then
        local time = redis.call('TIME')
        nowMs = time[1] * 1000 + math.floor(time[2] / 1000)
      end
      if tonumber(deadline) > nowMs then
        local fence, reserved = grant(token, leaseMs, reserve, tostring(redis.call('EXISTS', KEYS[2])))
        if token ~= caller then redis.call('PUBLISH', channel, string.format('%s|%s|%d:%d', token, KEYS[1], fence, reserved)) end
        return fence, reserved
      end
    end
  end
end
`

/** Whether a queue may exist: the record says so, or there is no record (a holder's lease ended with waiters queued). */
const MAY_BE_QUEUED = `(queued == '1' or (not value and redis.call('EXISTS', KEYS[2]) == 1))`

/**
 * Every attempt of an acquisition. KEYS: record, queue, waiters; ARGV: token, leaseMs, waitMs,
 * channel, reserve ('1': callers of this process wait for the resource too). Released and nobody
 * queued: GET and SET, and returns the fence (a number). Otherwise {1, fence, last fence reserved}
 * when granted now, {1, fence, fence, leaseLeftMs} when the token already held it (handed over
 * while queued, its message lost or not read yet: it gets the last fence reserved for it,
 * alone), else {0, holder's leaseLeftMs}, queueing the token when waitMs > 0. Safe to repeat: a
 * queued token keeps its place.
 */
export const ACQUIRE = `
local value = redis.call('GET', KEYS[1])
${PARSE}
if value and holder == '' and queued == '0' and ARGV[5] == '0' then
  last = last + 1
  redis.call('SET', KEYS[1], string.format('%d:0:%s', last, ARGV[1]), 'PX', ARGV[2])
  return last
end
local token, leaseMs, wait = ARGV[1], ARGV[2], tonumber(ARGV[3])
if holder == token then return {1, last, last, redis.call('PTTL', KEYS[1])} end
${PROMOTE}
if holder == '' then
  local fence, reserved = false, 0
  if ${MAY_BE_QUEUED} then fence, reserved = promote(token) end
  if not fence then return {1, grant(token, leaseMs, ARGV[5], '0')} end
  if holder == token then return {1, fence, reserved} end
end
local leaseLeft = redis.call('PTTL', KEYS[1])
if wait > 0 then
  if redis.call('HEXISTS', KEYS[3], token) == 0 then
    local time = redis.call('TIME')
    local nowMs = time[1] * 1000 + math.floor(time[2] / 1000)
    redis.call('RPUSH', KEYS[2], token)
    redis.call('HSET', KEYS[3], token, string.format('%d|%s|%s|%s', nowMs + wait, leaseMs, ARGV[4], ARGV[5]))
    if redis.call('PTTL', KEYS[2]) < wait then
      redis.call('PEXPIRE', KEYS[2], wait)
      redis.call('PEXPIRE', KEYS[3], wait)
    end
  end
  if queued == '0' then redis.call('SET', KEYS[1], string.format('%d:1:%s', last, holder), 'KEEPTTL') end
end
return {0, leaseLeft}
`

/**
 * KEYS: record, queue, waiters; ARGV: token. If the token holds the resource: hands it to the
 * next live waiter, or marks it released (keeping the fence and the rest of the TTL), and returns
 * 1. Otherwise takes the token out of the queue (and hands on a resource whose holder's lease
 * ended with waiters queued) and returns 0. Nobody queued: GET and SET.
 */
export const RELEASE = `
local value = redis.call('GET', KEYS[1])
${PARSE}
if holder == ARGV[1] and queued == '0' then
  redis.call('SET', KEYS[1], string.format('%d:0:', last), 'KEEPTTL')
  return 1
end
${PROMOTE}
if holder == ARGV[1] then
  if not promote('') then redis.call('SET', KEYS[1], string.format('%d:0:', last), 'KEEPTTL') end
  return 1
end
if redis.call('HDEL', KEYS[3], ARGV[1]) == 1 then redis.call('LREM', KEYS[2], 1, ARGV[1]) end
if holder == '' and ${MAY_BE_QUEUED} and not promote('') and value then redis.call('SET', KEYS[1], string.format('%d:0:', last), 'KEEPTTL') end
return 0
`

/** KEYS: record; ARGV: token, leaseMs. Resets the lease if the token holds it (the record exists: its lease has not ended). Returns 1 or 0. */
export const RENEW = `
local value = redis.call('GET', KEYS[1])
if not value or string.match(value, '^%d+:%d:(.*)$') ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`
