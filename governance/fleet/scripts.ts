/**
 * The Lua scripts that make fleet-wide governance exact: each runs atomically on the Redis server, so a
 * check and the reservation it allows are one step (no check-then-increment race between replicas).
 * Time is the server's (TIME), one clock for the whole fleet. Loaded once and called by SHA (ioredis
 * defineCommand: EVALSHA, EVAL on NOSCRIPT).
 *
 * reserve: KEYS = callerBucket, edgeBucket, calleeLeases, task, taskFanOut, taskLeases, agentWindows
 *   ARGV[1] packs these, each followed by "\n" (ioredis's cost grows with the argument count):
 *         1 callerRps  2 callerBurst  3 edgeRps  4 edgeBurst          (rps 0 = no bucket)
 *         5 calleeCap  6 leaseMs  7 leaseId                          (cap 0 = no concurrency cap)
 *         8 taskMode (0 none, 1 new root task, 2 existing task)
 *         9 maxCalls 10 maxFanOut 11 maxConcurrent 12 maxCost (-1 none) 13 parentCallId 14 taskTtlMs
 *        15 callsPerMinute 16 callsPerHour 17 callsPerDay 18 costPerDay   (the calling agent's windows; -1 none)
 *   returns { 'ok', serverNowMs } or { reason, retryAfterMs, detail }
 *   reasons: caller | edge | concurrency | cancelled | max_calls | fan_out | task_concurrency | max_cost |
 *            callsPerMinute | callsPerHour | callsPerDay | costPerDay
 *
 * Agent windows are sliding-window counters as in governance/delegation/windows.ts: the current fixed
 * window's count plus the previous one's weighted by its overlap; keys <agentWindows>:<W>:<windowStart>.
 *
 * Buckets are hashes {t = tokens, l = last refill ms}, expiring once full again. Concurrency slots and
 * task in-flight slots are leases: sorted-set members scored by their expiry; expired leases are dropped
 * before counting, so a replica that dies holding slots gives them back within one lease.
 */
export const RESERVE_LUA = `
-- the 18 arguments arrive packed in one string, each ended by a newline (one argument to encode, not 18)
local A = {}
for v in string.gmatch(ARGV[1], '([^\\n]*)\\n') do A[#A + 1] = v end
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)

local function bucket(key, rps, burst)
  local h = redis.call('HMGET', key, 't', 'l')
  local t = tonumber(h[1])
  local l = tonumber(h[2])
  if t == nil then t = burst; l = now end
  if now > l then
    t = math.min(burst, t + (now - l) * rps / 1000)
    l = now
  end
  return t, l
end

local callerRps, callerBurst = tonumber(A[1]), tonumber(A[2])
local edgeRps, edgeBurst = tonumber(A[3]), tonumber(A[4])
local ct, cl, et, el
if callerRps > 0 then
  ct, cl = bucket(KEYS[1], callerRps, callerBurst)
  if ct < 1 then return { 'caller', math.ceil((1 - ct) * 1000 / callerRps), '' } end
end
if edgeRps > 0 then
  et, el = bucket(KEYS[2], edgeRps, edgeBurst)
  if et < 1 then return { 'edge', math.ceil((1 - et) * 1000 / edgeRps), '' } end
end

local cap = tonumber(A[5])
local leaseMs = tonumber(A[6])
local leaseId = A[7]
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= cap then return { 'concurrency', 1000, '' } end
end

-- the calling agent's windows: value = prev * (1 - elapsed / W) + curr
local wbase = KEYS[7]
local function win(W)
  local start = now - (now % W)
  local curr = tonumber(redis.call('GET', wbase .. ':' .. W .. ':' .. start)) or 0
  local prev = tonumber(redis.call('GET', wbase .. ':' .. W .. ':' .. (start - W))) or 0
  return prev * (1 - (now - start) / W) + curr, curr, prev, start
end
-- ms until value <= target with nothing added (windows.ts msUntilAtMost)
local function waitFor(W, curr, prev, start, target)
  if curr <= target then
    local f = 1 - (target - curr) / prev
    return math.max(1, math.ceil(start + f * W - now))
  end
  local f = 1 - target / curr
  return math.max(1, math.ceil(start + W + f * W - now))
end
local windows = { { 'callsPerMinute', 60000, tonumber(A[15]) }, { 'callsPerHour', 3600000, tonumber(A[16]) }, { 'callsPerDay', 86400000, tonumber(A[17]) } }
for _, w in ipairs(windows) do
  if w[3] >= 0 then
    local used, curr, prev, start = win(w[2])
    if used + 1 > w[3] + 1e-9 then return { w[1], waitFor(w[2], curr, prev, start, w[3] - 1), tostring(used) } end
  end
end
local costPerDay = tonumber(A[18])
if costPerDay >= 0 then
  local used, curr, prev, start = win(86400000 + 1)
  if used >= costPerDay then return { 'costPerDay', waitFor(86400000 + 1, curr, prev, start, costPerDay * 0.999999), tostring(used) } end
end

local mode = tonumber(A[8])
local ttl = tonumber(A[14])
if mode == 2 then
  local task = redis.call('HMGET', KEYS[4], 'calls', 'cost', 'cancelled')
  if task[3] == '1' then return { 'cancelled', 0, '' } end
  local calls = tonumber(task[1]) or 0
  if calls >= tonumber(A[9]) then return { 'max_calls', 0, tostring(calls) } end
  local fan = tonumber(redis.call('HGET', KEYS[5], A[13])) or 0
  if fan >= tonumber(A[10]) then return { 'fan_out', 0, tostring(fan) } end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
  if redis.call('ZCARD', KEYS[6]) >= tonumber(A[11]) then return { 'task_concurrency', 1000, '' } end
  local maxCost = tonumber(A[12])
  local cost = tonumber(task[2]) or 0
  if maxCost >= 0 and cost >= maxCost then return { 'max_cost', 0, tostring(cost) } end
end

-- every check passed: take what the call uses
for _, w in ipairs(windows) do
  if w[3] >= 0 then
    local k = wbase .. ':' .. w[2] .. ':' .. (now - (now % w[2]))
    redis.call('INCR', k)
    redis.call('PEXPIRE', k, w[2] * 2)
  end
end
if callerRps > 0 then
  redis.call('HSET', KEYS[1], 't', ct - 1, 'l', cl)
  redis.call('PEXPIRE', KEYS[1], math.ceil(callerBurst * 1000 / callerRps) + 1000)
end
if edgeRps > 0 then
  redis.call('HSET', KEYS[2], 't', et - 1, 'l', el)
  redis.call('PEXPIRE', KEYS[2], math.ceil(edgeBurst * 1000 / edgeRps) + 1000)
end
if cap > 0 then
  redis.call('ZADD', KEYS[3], now + leaseMs, leaseId)
  redis.call('PEXPIRE', KEYS[3], leaseMs * 2)
end
if mode > 0 then
  redis.call('HINCRBY', KEYS[4], 'calls', 1)
  redis.call('PEXPIRE', KEYS[4], ttl)
  if mode == 2 then
    redis.call('HINCRBY', KEYS[5], A[13], 1)
    redis.call('PEXPIRE', KEYS[5], ttl)
  end
  redis.call('ZADD', KEYS[6], now + leaseMs, leaseId)
  redis.call('PEXPIRE', KEYS[6], math.max(ttl, leaseMs * 2))
end
return { 'ok', now, '' }
`;

/**
 * release: KEYS = (calleeLeases, taskLeases) per lease; ARGV = the lease ids, one per pair. Gives the
 * slots back (either key of a pair may be unused). One call releases every lease that ended in a turn.
 */
export const RELEASE_LUA = `
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[(i - 1) * 2 + 1], ARGV[i])
  redis.call('ZREM', KEYS[(i - 1) * 2 + 2], ARGV[i])
end
return #ARGV
`;

/** renew: KEYS = leases sets (pairs of callee, task per lease); ARGV 1 leaseMs, then the lease ids, one per pair. */
export const RENEW_LUA = `
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local leaseMs = tonumber(ARGV[1])
for i = 2, #ARGV do
  local id = ARGV[i]
  redis.call('ZADD', KEYS[(i - 2) * 2 + 1], 'XX', now + leaseMs, id)
  redis.call('ZADD', KEYS[(i - 2) * 2 + 2], 'XX', now + leaseMs, id)
end
return #ARGV - 1
`;

/**
 * cost: KEYS = task, agentWindows; ARGV 1 amount, 2 '1' to charge the agent's cost-per-day window too.
 * Adds to the task's spent cost (only to a task that exists) and to the agent's day window (the cost
 * window is keyed with W = one day + 1 ms, apart from the calls-per-day window).
 */
export const COST_LUA = `
if ARGV[2] == '1' then
  local now_t = redis.call('TIME')
  local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
  local W = 86400000 + 1
  local k = KEYS[2] .. ':' .. W .. ':' .. (now - (now % W))
  redis.call('INCRBYFLOAT', k, ARGV[1])
  redis.call('PEXPIRE', k, W * 2)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], 'cost', ARGV[1])
return 1
`;

/**
 * cancel: KEYS = task; ARGV 1 ttlMs. Marks the task cancelled fleet-wide (also one no replica has seen yet:
 * a cancellation may race the task's first call). Returns 1 when the task had made calls, else 0.
 */
export const CANCEL_LUA = `
local known = redis.call('HEXISTS', KEYS[1], 'calls')
redis.call('HSET', KEYS[1], 'cancelled', '1')
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return known
`;
