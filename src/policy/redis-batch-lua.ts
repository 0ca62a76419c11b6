// The BATCH script of RedisCounterStore (redis-store.ts): one script call applies every settlement
// and admission one replica issued for one shard in one turn — settlements first, then admissions
// one after another, each all-or-nothing — so the outcome is exactly that of running them one by
// one, atomically with respect to every other replica. Each counter a batch touches is read once,
// updated in Lua, and written back once at the end. The key layout, the ledger invariant and the
// number formatting rules are in redis-lua.ts (which holds the other scripts).

/**
 * KEYS: every key of the batch once (ops refer to them by index in KEYS): counters and the
 * replica's ledger on each shard of the batch (one shard on Redis Cluster; any number on one Redis).
 * ARGV: now (the newest `now` of the batch: expired leases are dropped as of it), "<instance>:",
 * and one JSON array of everything else, read left to right:
 *   T, then T templates: ledger nW nS nB, per window: key n bucketMs limit; per slot: key limit ttlMs;
 *                        per budget: key limitMicro hard(1|0)
 *   S, then S settlements: ledger nW nS nB, per window: key n bucket delta; per slot: key member;
 *                          per budget: key reservedMicro actualMicro
 *   A, then A admissions: template now, cost per window, reserveMicro per budget, member per slot
 *   (a slot's member is <instance>:<leaseId>: a release finds a dead replica's leases by it)
 * Returns one reply per admission, in order:
 *   {1, used₁, reset₁, …, spent₁, reserved₁, …}
 *   | {0, 'u', budget index…} | {0, 'w', i, used, reset} | {0, 's', i, inFlight} | {0, 'b', i, spent, reserved}
 * (indices 0-based, as in the plan).
 */
export const BATCH = `
-- Globals are slow in Redis' Lua (a protected global table): everything used per operation is local.
local KEYS, ARGV, tonumber, floor, unpack, call, format, pairs = KEYS, ARGV, tonumber, math.floor, unpack, redis.call, string.format, pairs
local function int(x) return format('%d', x) end
local p = 0
local batch_now = tonumber(ARGV[1])
-- ARGV[2]: "<instance>:", the prefix of this replica's lease members (RELEASE_LEDGER finds them by it).
-- ARGV[3]: everything else, one JSON array read left to right (numbers arrive as numbers: one C
-- decode instead of a Redis argument and a tonumber() per value).
local A = cjson.decode(ARGV[3])
local function num() p = p + 1; return A[p] end

-- Counters as read once and written back once.
local W, S, B, L = {}, {}, {}, {}

-- A window, read with the count of bucket b (the one this operation charges) in the same call.
local function win(k, n, bucket_ms, b)
  local w = W[k]
  if w then return w end
  local r = call('HMGET', KEYS[k], 'h', 's', 'f', b)
  w = { h = tonumber(r[1]) or -1, s = tonumber(r[2]) or 0, f = tonumber(r[3]) or -1, n = n, ms = bucket_ms, c = {}, dirty = {}, dead = {}, wiped = false, moved = false, advanced = false }
  w.c[b] = tonumber(r[4]) or 0
  W[k] = w
  return w
end

-- The count of bucket b (0 when absent, or dropped or wiped in this batch).
local function count(w, k, b)
  local v = w.c[b]
  if v == nil then
    v = w.wiped and 0 or (tonumber(call('HGET', KEYS[k], b)) or 0)
    w.c[b] = v
  end
  return v
end

-- Loads the uncached counts of buckets lo..hi in one HMGET.
local function preload(w, k, lo, hi)
  local want = {}
  for b = lo, hi do
    if w.c[b] == nil then
      if w.wiped then w.c[b] = 0 else want[#want + 1] = b end
    end
  end
  if #want == 0 then return end
  local got = call('HMGET', KEYS[k], unpack(want))
  for i, b in ipairs(want) do w.c[b] = tonumber(got[i]) or 0 end
end

-- Moves the window to bucket c, dropping the buckets that fell out.
local function advance(w, k, c)
  if c <= w.h then return end
  if w.h < 0 or c - w.h >= w.n then
    w.wiped = true
    w.c, w.dirty, w.dead, w.s, w.f = {}, {}, {}, 0, -1
  else
    preload(w, k, w.h + 1 - w.n, c - w.n)
    for b = w.h + 1 - w.n, c - w.n do
      local v = w.c[b]
      if v ~= 0 then w.s = w.s - v end
      w.c[b] = 0
      w.dirty[b] = nil
      w.dead[#w.dead + 1] = b
    end
  end
  w.h = c
  w.moved = true
  w.advanced = true
end

-- used, and ms until enough of the window has expired to admit \`cost\` under \`limit\`.
local function state(w, k, now, cost, limit)
  local must = w.s + cost - limit
  if must < 1 and w.s > 0 then must = 1 end
  if must <= 0 then return w.s, 0 end
  local from = w.h - w.n + 1
  if w.f > from then from = w.f end
  local freed, reset, oldest = 0, 0, -1
  for b = from, w.h do
    local v = w.c[b]
    -- Usually the first bucket looked at is enough (one HGET); a longer walk reads the rest at once.
    if v == nil then
      if b - from < 2 then v = count(w, k, b) else preload(w, k, b, w.h); v = w.c[b] end
    end
    if v > 0 then
      if oldest < 0 then oldest = b end
      freed = freed + v
      reset = (b + w.n) * w.ms - now
      if freed >= must then break end
    end
  end
  if oldest >= 0 then w.f = oldest end
  return w.s, reset
end

local function add(w, k, b, amount)
  if w.h >= 0 and b <= w.h - w.n then return end
  local v = count(w, k, b)
  local nv = v + amount
  if nv < 0 then nv = 0 end
  w.s = w.s + nv - v
  w.c[b] = nv
  w.dirty[b] = true
  if w.f < 0 or b < w.f then w.f = b end
  w.moved = true
end

local function slot(k)
  local s = S[k]
  if s then return s end
  call('ZREMRANGEBYSCORE', KEYS[k], '-inf', batch_now)
  s = { n = call('ZCARD', KEYS[k]), add = {}, ttl = 0 }
  S[k] = s
  return s
end

local function budget(k)
  local b = B[k]
  if b then return b end
  local r = call('HMGET', KEYS[k], 'spent', 'reserved')
  b = { exists = r[1] ~= false, spent = tonumber(r[1]) or 0, reserved = tonumber(r[2]) or 0, dirty = false }
  B[k] = b
  return b
end

-- Ledger field names, built once per key per batch.
local BF, SF = {}, {}
local function bfield(k)
  local f = BF[k]
  if not f then f = 'b:' .. KEYS[k]; BF[k] = f end
  return f
end
local function sfield(k)
  local f = SF[k]
  if not f then f = 's:' .. KEYS[k]; SF[k] = f end
  return f
end

-- Each counter key's ledger (the ledger of this replica on the key's shard), by key index.
local KL, LF = {}, {}
local function held(k, field)
  local v = L[field]
  if v == nil then
    v = tonumber(call('HGET', KEYS[KL[k]], field)) or 0
    L[field] = v
    LF[field] = KL[k]
  end
  return v
end
local changed = {}

-- Templates.
local T = {}
for t = 1, num() do
  local lk, nw, ns, nb = num(), num(), num(), num()
  local tp = { w = {}, s = {}, b = {} }
  for i = 1, nw do tp.w[i] = { k = num(), n = num(), ms = num(), limit = num() } end
  for i = 1, ns do tp.s[i] = { k = num(), limit = num(), ttl = num() }; KL[tp.s[i].k] = lk end
  for i = 1, nb do tp.b[i] = { k = num(), limit = num(), hard = num() == 1 }; KL[tp.b[i].k] = lk end
  T[t] = tp
end

-- Settlements: token windows take the actual count, slots are released, budgets take the cost.
local freed_leases = {}
for _ = 1, num() do
  local lk, nw, ns, nb = A[p + 1], A[p + 2], A[p + 3], A[p + 4]
  p = p + 4
  for _ = 1, nw do
    local k, n, bucket, delta = A[p + 1], A[p + 2], A[p + 3], A[p + 4]
    p = p + 4
    local w = W[k] or win(k, n, 0, bucket)
    if w.h >= 0 and bucket > w.h - w.n then add(w, k, bucket, delta) end
  end
  for _ = 1, ns do
    local k, lease = A[p + 1], A[p + 2]
    p = p + 2
    KL[k] = lk
    local list = freed_leases[k]
    if not list then list = {}; freed_leases[k] = list end
    list[#list + 1] = lease
  end
  for _ = 1, nb do
    local k, reserved, actual = A[p + 1], A[p + 2], A[p + 3]
    p = p + 3
    KL[k] = lk
    local field = bfield(k)
    local give = held(k, field)
    if give > reserved then give = reserved end
    if give > 0 then L[field] = L[field] - give; changed[field] = true end
    -- A counter that expired meanwhile is rebuilt from the rollups, which include this request.
    -- What the ledger no longer held of this reservation was charged as spent when this replica was
    -- presumed dead (RELEASE_LEDGER): only the actual beyond it is still to add.
    local b = budget(k)
    if b.exists then
      b.reserved = b.reserved - give
      if b.reserved < 0 then b.reserved = 0 end
      local add = actual - (reserved - give)
      if add > 0 then b.spent = b.spent + add end
      b.dirty = true
    end
  end
end
for k, list in pairs(freed_leases) do
  local removed = call('ZREM', KEYS[k], unpack(list))
  if removed > 0 then
    local field = sfield(k)
    L[field] = held(k, field) - removed
    changed[field] = true
  end
end

-- Admissions, one after another.
local out = {}
-- Scratch tables reused by every admission (entries 1..n are rewritten before they are read).
local costs, reserves, leases, used, reset = {}, {}, {}, {}, {}
for a = 1, num() do
  local tp = T[A[p + 1]]
  local now = A[p + 2]
  p = p + 2
  local nw, nb, ns = #tp.w, #tp.b, #tp.s
  for i = 1, nw do costs[i] = A[p + i] end
  p = p + nw
  for i = 1, nb do reserves[i] = A[p + i] end
  p = p + nb
  for i = 1, ns do leases[i] = A[p + i] end
  p = p + ns
  local reply
  local missing
  for i = 1, nb do
    if not budget(tp.b[i].k).exists then
      missing = missing or {}
      missing[#missing + 1] = i - 1
    end
  end
  if missing then reply = {0, 'u', unpack(missing)} end
  if not reply then
    for i = 1, nw do
      local spec = tp.w[i]
      local c = floor(now / spec.ms)
      local w = W[spec.k] or win(spec.k, spec.n, spec.ms, c)
      w.n, w.ms = spec.n, spec.ms -- a window a settlement loaded first does not know its bucket size
      if c > w.h then advance(w, spec.k, c) end
      used[i], reset[i] = state(w, spec.k, now, costs[i], spec.limit)
      if used[i] + costs[i] > spec.limit then reply = {0, 'w', i - 1, used[i], reset[i]}; break end
    end
  end
  if not reply then
    for i = 1, ns do
      local s = slot(tp.s[i].k)
      if s.n + 1 > tp.s[i].limit then reply = {0, 's', i - 1, s.n}; break end
    end
  end
  if not reply then
    for i = 1, nb do
      local b = budget(tp.b[i].k)
      if tp.b[i].hard and b.spent + b.reserved + reserves[i] > tp.b[i].limit then reply = {0, 'b', i - 1, b.spent, b.reserved}; break end
    end
  end
  if not reply then
    -- Every level has room: charge them all.
    reply = {1}
    local r = 1
    for i = 1, nw do
      local spec = tp.w[i]
      add(W[spec.k], spec.k, floor(now / spec.ms), costs[i])
      reply[r + 1] = used[i] + costs[i]
      reply[r + 2] = reset[i]
      r = r + 2
    end
    for i = 1, ns do
      local spec = tp.s[i]
      local s = S[spec.k]
      s.n = s.n + 1
      s.add[#s.add + 1] = now + spec.ttl
      s.add[#s.add + 1] = leases[i]
      if spec.ttl > s.ttl then s.ttl = spec.ttl end
      local field = sfield(spec.k)
      L[field] = held(spec.k, field) + 1
      changed[field] = true
    end
    for i = 1, nb do
      local b = B[tp.b[i].k]
      b.reserved = b.reserved + reserves[i]
      b.dirty = true
      if reserves[i] > 0 then
        local field = bfield(tp.b[i].k)
        L[field] = held(tp.b[i].k, field) + reserves[i]
        changed[field] = true
      end
      reply[r + 1] = b.spent
      reply[r + 2] = b.reserved
      r = r + 2
    end
  end
  out[a] = reply
end

-- Write back what changed, once per counter.
for k, w in pairs(W) do
  if w.wiped then call('DEL', KEYS[k]) end
  if w.moved then
    if #w.dead > 0 and not w.wiped then call('HDEL', KEYS[k], unpack(w.dead)) end
    local set = {'h', int(w.h), 's', int(w.s), 'f', int(w.f)}
    for b in pairs(w.dirty) do
      set[#set + 1] = int(b)
      set[#set + 1] = int(w.c[b])
    end
    call('HSET', KEYS[k], unpack(set))
    -- Only a new bucket moves the expiry: until then the last one set still covers a whole window.
    if w.advanced then call('PEXPIRE', KEYS[k], int((w.n + 1) * w.ms)) end
  end
end
for k, s in pairs(S) do
  if #s.add > 0 then
    call('ZADD', KEYS[k], unpack(s.add))
    call('PEXPIRE', KEYS[k], int(s.ttl))
  end
end
for k, b in pairs(B) do
  if b.dirty then call('HSET', KEYS[k], 'spent', int(b.spent), 'reserved', int(b.reserved)) end
end
local sets, dels = {}, {}
for field in pairs(changed) do
  local lk = LF[field]
  if L[field] > 0 then
    local t = sets[lk] or {}
    sets[lk] = t
    t[#t + 1] = field
    t[#t + 1] = int(L[field])
  else
    local t = dels[lk] or {}
    dels[lk] = t
    t[#t + 1] = field
  end
end
for lk, t in pairs(dels) do call('HDEL', KEYS[lk], unpack(t)) end
for lk, t in pairs(sets) do call('HSET', KEYS[lk], unpack(t)) end
return out
`;
