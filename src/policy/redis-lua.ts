// The Lua side of RedisCounterStore: the key layout every script shares, and the scripts off the
// hot path — RELEASE_LEDGER (a dead replica's holdings), INIT_BUDGET, PEEK. The hot path's script,
// BATCH (every settlement and admission of one turn in one call), is in redis-batch-lua.ts.
//
// All time arithmetic uses the admissions' `now` (ARGV), never Redis TIME, so both stores behave
// alike under a test clock; Redis' key expiry (PEXPIRE) only garbage-collects idle counters.
//
// Layout (every key carries the prefix and the shard's hash tag, see redis-keys.ts):
//   window  hash  h = newest bucket seen, s = sum of the live buckets, f = a lower bound of the
//                 oldest non-empty bucket, <bucket index> = count        PEXPIRE (n + 1) buckets on a new bucket
//                 Moving to a newer bucket drops the buckets that fell out of the window (amortized
//                 O(1), as memory-store's Ring does); a window idle for its whole span is wiped.
//   slot    zset  member = <instance>:<leaseId>, score = lease expiry   PEXPIRE lease ttl on a new lease
//   budget  hash  {spent, reserved}                                      PEXPIRE set by INIT_BUDGET
//   ledger  hash  what one replica holds on this shard (replica-ledger.ts), no expiry
//                   "s:<slot key>" = n                its leases in that slot zset (members <instance>:…)
//                   "b:<budget key>" = micro-USD      its reservations in that budget, summed
//
// Invariant kept for the ledger: a budget's `reserved` is the sum of its "b:" fields over all
// ledgers, so a settlement takes back min(its reservation, what the ledger still holds) — one that
// arrives after its replica was presumed dead and released subtracts nothing twice, and adds only
// the part of its actual cost beyond what the release charged.
//
// Numbers cross into Redis as strings made by int() ("%d"): Lua 5.1's default number formatting
// keeps only 14 significant digits. Counts, ms and micro-USD all stay far below 2^53.

/**
 * Takes back everything one replica's ledger on one shard holds: its leases (ZREM of the members
 * named after it) and its reservations, which are CHARGED: moved from `reserved` to `spent` (never
 * more than is reserved; a budget counter that no longer exists is not recreated). A dead replica's
 * reservations are the requests it had in flight, which the provider may have billed, and the
 * settlements it had not sent yet, whose actual cost its journal will bring into the log: the spend
 * counted is at least both. Then deletes the ledger. KEYS: ledger; ARGV: "<instance>:". Returns
 * {leases and budget entries released, micro-USD charged}. Idempotent: a second run finds no
 * ledger and releases nothing.
 */
export const RELEASE_LEDGER = `
local function int(x) return string.format('%d', x) end
local mine = ARGV[1]
local released, charged = 0, 0
local flat = redis.call('HGETALL', KEYS[1])
for j = 1, #flat, 2 do
  local f = flat[j]
  local kind = string.sub(f, 1, 2)
  if kind == 'b:' then
    local key = string.sub(f, 3)
    local r = redis.call('HMGET', key, 'reserved', 'spent')
    if r[1] then
      local reserved = tonumber(r[1]) or 0
      local charge = tonumber(flat[j + 1])
      if charge > reserved then charge = reserved end
      redis.call('HSET', key, 'reserved', int(reserved - charge), 'spent', int((tonumber(r[2]) or 0) + charge))
      charged = charged + charge
    end
    released = released + 1
  elseif kind == 's:' then
    local key = string.sub(f, 3)
    local gone = {}
    for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      if string.sub(m, 1, #mine) == mine then gone[#gone + 1] = m end
    end
    for i = 1, #gone, 500 do
      released = released + redis.call('ZREM', key, unpack(gone, i, math.min(i + 499, #gone)))
    end
  end
end
redis.call('DEL', KEYS[1])
return {released, charged}
`;

/** KEYS[1] budget; ARGV: spentMicro, ttlMs. Never overwrites a counter another replica loaded. */
export const INIT_BUDGET = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'reserved', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * Read-only. KEYS: windows…, slots…, budgets…
 * ARGV: now, nW, nS, nB, per window: windowMs, bucketMs, current bucket
 * Returns {used₁, reset₁, …, inFlight₁, …, loaded₁ (1|0), spent₁, reserved₁, …}
 */
export const PEEK = `
local now = tonumber(ARGV[1])
local nw, ns, nb = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for i = 1, nw do
  local a = 5 + (i - 1) * 3
  local bucket_ms, current = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local n = math.floor(tonumber(ARGV[a]) / bucket_ms + 0.5)
  local flat = redis.call('HGETALL', KEYS[i])
  local used, live = 0, {}
  for j = 1, #flat, 2 do
    local b = tonumber(flat[j])
    local c = tonumber(flat[j + 1])
    if b and b > current - n and c > 0 then
      used = used + c
      live[#live + 1] = b
    end
  end
  table.sort(live)
  out[#out + 1] = used
  out[#out + 1] = #live > 0 and (live[1] + n) * bucket_ms - now or 0
end
for i = 1, ns do
  out[#out + 1] = redis.call('ZCOUNT', KEYS[nw + i], '(' .. ARGV[1], '+inf')
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
