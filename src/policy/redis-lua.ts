// The Lua side of RedisCounterStore. Each script runs atomically in Redis, so admit's
// check-then-charge across every window, slot and budget of a plan is one indivisible step, the
// way MemoryCounterStore's is on the single JavaScript thread. All time arithmetic uses the plan's
// `now` (ARGV), never Redis TIME, so both stores behave alike under a test clock; Redis' own key
// expiry (PEXPIRE) only garbage-collects idle counters.
//
// Layout (keys carry the store's prefix, default "tg:"):
//   window  hash    field = bucket index, value = count    PEXPIRE windowMs + bucketMs on charge
//   slot    zset    member = leaseId, score = lease expiry  PEXPIRE ≥ lease ttl
//   budget  hash    {spent, reserved}                       PEXPIRE ≥ period remainder + margin
//   ledger  hash    rep:<instance>: what one replica process holds (replica-ledger.ts), no expiry
//                     "s:<leaseId>\n<slot key>" = 1       a lease in a slot zset
//                     "b:<budget key>" = micro-USD         its reservations in that budget, summed
//   alive   string  alive:<instance>, PEXPIRE 3 heartbeats; replicas: set of instances
//
// The ledger is what lets a replica that died (SIGKILL, a lost machine) be cleaned up by the others:
// RELEASE takes exactly its leases and reservations back. Invariant: a budget's `reserved` is the sum
// of its "b:" fields over all ledgers, so settle takes back min(its reservation, what the ledger
// still holds): a settle arriving after its replica was presumed dead and released subtracts nothing
// twice and never takes another replica's reservation.
//
// Numbers cross into Redis as strings made by int() ("%d"): Lua 5.1's default number formatting
// keeps only 14 significant digits. Counts, ms and micro-USD all stay far below 2^53.

/** Shared helpers, prepended to the scripts that read windows. Mirrors memory-store's Ring.state. */
const WINDOW_STATE = `
local function int(x) return string.format('%d', x) end
local function window_state(key, now, window_ms, bucket_ms, current, cost, limit)
  local n = math.floor(window_ms / bucket_ms + 0.5)
  local flat = redis.call('HGETALL', key)
  local used, live, dead = 0, {}, {}
  for j = 1, #flat, 2 do
    local b, c = tonumber(flat[j]), tonumber(flat[j + 1])
    if b > current - n then
      used = used + c
      if c > 0 then live[#live + 1] = {b, c} end
    else
      dead[#dead + 1] = flat[j]
    end
  end
  if #dead > 0 then redis.call('HDEL', key, unpack(dead)) end
  table.sort(live, function(x, y) return x[1] < y[1] end)
  local must_free = used + cost - limit
  if must_free < 1 and #live > 0 then must_free = 1 end
  local freed, reset = 0, 0
  for _, bc in ipairs(live) do
    freed = freed + bc[2]
    reset = (bc[1] + n) * bucket_ms - now
    if freed >= must_free then break end
  end
  return used, reset
end
`;

/**
 * KEYS: windows…, slots…, budgets…, ledger
 * ARGV: now, nW, nS, nB,
 *   per window: windowMs, bucketMs, limit, cost, current bucket
 *   per slot:   limit, leaseId, lease expiry (ms), ttlMs
 *   per budget: limitMicro, reserveMicro, hard (1|0), ttlMs
 * Returns {1, used₁, reset₁, …, spent₁, reserved₁, …}
 *      or {0, 'u', budget index…} | {0, 'w', i, used, reset} | {0, 's', i, inFlight} | {0, 'b', i, spent, reserved}
 * (indices 0-based, as in the plan).
 */
export const ADMIT = WINDOW_STATE + `
local now = tonumber(ARGV[1])
local nw, ns, nb = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wa, sa, ba = 5, 5 + nw * 5, 5 + nw * 5 + ns * 4

local missing = {}
for i = 1, nb do
  if redis.call('EXISTS', KEYS[nw + ns + i]) == 0 then missing[#missing + 1] = i - 1 end
end
if #missing > 0 then return {0, 'u', unpack(missing)} end

local used, reset = {}, {}
for i = 1, nw do
  local a = wa + (i - 1) * 5
  local cost, limit = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 2])
  used[i], reset[i] = window_state(KEYS[i], now, tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 4]), cost, limit)
  if used[i] + cost > limit then return {0, 'w', i - 1, used[i], reset[i]} end
end
for i = 1, ns do
  local key, a = KEYS[nw + i], sa + (i - 1) * 4
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  local in_flight = redis.call('ZCARD', key)
  if in_flight + 1 > tonumber(ARGV[a]) then return {0, 's', i - 1, in_flight} end
end
local spent, reserved = {}, {}
for i = 1, nb do
  local key, a = KEYS[nw + ns + i], ba + (i - 1) * 4
  local c = redis.call('HMGET', key, 'spent', 'reserved')
  spent[i], reserved[i] = tonumber(c[1]) or 0, tonumber(c[2]) or 0
  if ARGV[a + 2] == '1' and spent[i] + reserved[i] + tonumber(ARGV[a + 1]) > tonumber(ARGV[a]) then
    return {0, 'b', i - 1, spent[i], reserved[i]}
  end
end

-- Every level has room: charge them all.
local out = {1}
for i = 1, nw do
  local a = wa + (i - 1) * 5
  redis.call('HINCRBY', KEYS[i], ARGV[a + 4], ARGV[a + 3])
  redis.call('PEXPIRE', KEYS[i], int(tonumber(ARGV[a]) + tonumber(ARGV[a + 1])))
  out[#out + 1] = used[i] + tonumber(ARGV[a + 3])
  out[#out + 1] = reset[i]
end
for i = 1, ns do
  local key, a = KEYS[nw + i], sa + (i - 1) * 4
  redis.call('ZADD', key, ARGV[a + 2], ARGV[a + 1])
  if redis.call('PTTL', key) < tonumber(ARGV[a + 3]) then redis.call('PEXPIRE', key, ARGV[a + 3]) end
end
local ledger = KEYS[nw + ns + nb + 1]
if ns > 0 then
  local held = {}
  for i = 1, ns do
    held[#held + 1] = 's:' .. ARGV[sa + (i - 1) * 4 + 1] .. '\\n' .. KEYS[nw + i]
    held[#held + 1] = '1'
  end
  redis.call('HSET', ledger, unpack(held))
end
for i = 1, nb do
  local key, a = KEYS[nw + ns + i], ba + (i - 1) * 4
  reserved[i] = redis.call('HINCRBY', key, 'reserved', ARGV[a + 1])
  if redis.call('PTTL', key) < tonumber(ARGV[a + 3]) then redis.call('PEXPIRE', key, ARGV[a + 3]) end
  if ARGV[a + 1] ~= '0' then redis.call('HINCRBY', ledger, 'b:' .. key, ARGV[a + 1]) end
  out[#out + 1] = spent[i]
  out[#out + 1] = reserved[i]
end
return out
`;

/**
 * KEYS: windows…, slots…, budgets…, ledger
 * ARGV: nW, nS, nB, per window: bucket, delta; per slot: leaseId; per budget: reservedMicro, actualMicro
 */
export const SETTLE = `
local function int(x) return string.format('%d', x) end
local nw, ns, nb = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wa, sa, ba = 4, 4 + nw * 2, 4 + nw * 2 + ns
for i = 1, nw do
  local a = wa + (i - 1) * 2
  local c = redis.call('HGET', KEYS[i], ARGV[a])
  if c then
    local v = tonumber(c) + tonumber(ARGV[a + 1])
    if v < 0 then v = 0 end
    redis.call('HSET', KEYS[i], ARGV[a], int(v))
  end
end
local ledger = KEYS[nw + ns + nb + 1]
for i = 1, ns do
  redis.call('ZREM', KEYS[nw + i], ARGV[sa + i - 1])
  redis.call('HDEL', ledger, 's:' .. ARGV[sa + i - 1] .. '\\n' .. KEYS[nw + i])
end
for i = 1, nb do
  local key, a = KEYS[nw + ns + i], ba + (i - 1) * 2
  -- Only what this replica's ledger still holds is taken back (released already: nothing).
  local field = 'b:' .. key
  local give = tonumber(redis.call('HGET', ledger, field)) or 0
  if give > tonumber(ARGV[a]) then give = tonumber(ARGV[a]) end
  if give > 0 and redis.call('HINCRBY', ledger, field, int(-give)) <= 0 then redis.call('HDEL', ledger, field) end
  -- A counter that expired meanwhile is rebuilt from the rollups, which include this request.
  if redis.call('EXISTS', key) == 1 then
    local r = (tonumber(redis.call('HGET', key, 'reserved')) or 0) - give
    if r < 0 then r = 0 end
    redis.call('HSET', key, 'reserved', int(r))
    redis.call('HINCRBY', key, 'spent', ARGV[a + 1])
  end
end
return 1
`;

/**
 * A replica's heartbeat. KEYS: alive, replicas; ARGV: ttlMs, instance.
 * Returns 1 if the alive key was still there (0: first beat, or presumed dead and released meanwhile).
 */
export const BEAT = `
local was = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return was
`;

/**
 * Takes back everything a replica's ledger holds: its leases (ZREM) and its reservations (never
 * below 0; a budget counter that no longer exists is not recreated), then forgets the replica.
 * KEYS: alive, ledger, replicas; ARGV: instance, force (1: a clean shutdown, releasing itself).
 * Returns -1 if the replica is alive after all (it beat since it was looked at), else how many
 * entries were released. Idempotent: a second run finds no ledger and releases nothing.
 */
export const RELEASE = `
local function int(x) return string.format('%d', x) end
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local flat = redis.call('HGETALL', KEYS[2])
for j = 1, #flat, 2 do
  local f = flat[j]
  local kind = string.sub(f, 1, 2)
  if kind == 'b:' then
    local key = string.sub(f, 3)
    if redis.call('EXISTS', key) == 1 then
      local r = (tonumber(redis.call('HGET', key, 'reserved')) or 0) - tonumber(flat[j + 1])
      if r < 0 then r = 0 end
      redis.call('HSET', key, 'reserved', int(r))
    end
  elseif kind == 's:' then
    local nl = string.find(f, '\\n', 3, true)
    if nl then redis.call('ZREM', string.sub(f, nl + 1), string.sub(f, 3, nl - 1)) end
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return #flat / 2
`;

/** KEYS[1] budget; ARGV: spentMicro, ttlMs. Never overwrites a counter another replica loaded. */
export const INIT_BUDGET = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * KEYS: windows…, slots…, budgets…
 * ARGV: now, nW, nS, nB, per window: windowMs, bucketMs, current bucket
 * Returns {used₁, reset₁, …, inFlight₁, …, loaded₁ (1|0), spent₁, reserved₁, …}
 */
export const PEEK = WINDOW_STATE + `
local now = tonumber(ARGV[1])
local nw, ns, nb = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 1, nw do
  local a = 5 + (i - 1) * 3
  local used, reset = window_state(KEYS[i], now, tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), 0, 9007199254740991)
  out[#out + 1] = used
  out[#out + 1] = reset
end
for i = 1, ns do
  redis.call('ZREMRANGEBYSCORE', KEYS[nw + i], '-inf', ARGV[1])
  out[#out + 1] = redis.call('ZCARD', KEYS[nw + i])
end
for i = 1, nb do
  local c = redis.call('HMGET', KEYS[nw + ns + i], 'spent', 'reserved')
  if c[1] then
    out[#out + 1] = 1
    out[#out + 1] = tonumber(c[1])
    out[#out + 1] = tonumber(c[2]) or 0
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
return out
`;
