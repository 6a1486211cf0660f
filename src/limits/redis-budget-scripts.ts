/**
 * Lua for the Redis budget counter (rules in budget.ts). Keys under `<prefix>{<tag>}:`:
 *   b:<subject>:<periodKey>  hash spent, open, limit (balance), ep (loaded marker: load time)
 *   res:<requestId>          hash amt, st (0 open, 1 settled, 2 lease expired: x, the counter keys it charged), k (counter keys), at, exp;
 *                            once settled or expired only st is kept: it is remembered for minutes and
 *                            nothing reads the rest again (MEMORY USAGE, two spend limits: 680 → 280 bytes)
 *   leases                   zset requestId → lease end
 *   expired                  list of expired reservations not yet reported
 * TTLs are relative (PEXPIRE), computed from the caller's clock, so tests may run at any date.
 * Amounts stay integers: HINCRBY does the arithmetic, and numbers bound for JSON travel as strings.
 */
const EXPIRE_ONE = `
local function expire_one(base, id, now, expired_key, keep_ms)
  local rk = base .. 'res:' .. id
  local rec = redis.call('HMGET', rk, 'st', 'amt', 'k', 'at', 'exp', 'o')
  redis.call('ZREM', KEYS[1], id)
  if rec[1] ~= '0' then return end
  local amt = tonumber(rec[2])
  local missed = {}
  for ck in string.gmatch(rec[3], '[^\\n]+') do
    if redis.call('EXISTS', ck) == 1 then
      if amt ~= 0 then
        redis.call('HINCRBY', ck, 'open', -amt)
        redis.call('HINCRBY', ck, 'spent', amt)
      end
    else
      missed[#missed + 1] = ck
    end
  end
  redis.call('HDEL', rk, 'amt', 'k', 'at', 'exp', 'o', 'rc')
  redis.call('HSET', rk, 'st', '2', 'x', rec[3])
  if #missed > 0 and amt ~= 0 then redis.call('HSET', rk, 'act', rec[2], 'na', table.concat(missed, '\\n')) end
  redis.call('PEXPIRE', rk, keep_ms)
  redis.call('RPUSH', expired_key, cjson.encode({id = id, amt = rec[2], k = rec[3], at = rec[4], exp = rec[5], now = now, o = rec[6] or ''}))
  redis.call('PEXPIRE', expired_key, 7 * 86400000)
end
`;

/**
 * KEYS: leases, expired, res, counter…  ARGV: now, amount, expiresAt, requestId, n, base,
 * keepExpiredMs, then per counter: limit, isBalance, counterTtlMs; last the owner ('' for none).
 * Answers {1} admitted, {0, index, limit, spent, open} refused, {2, index…} needs load.
 */
export const BUDGET_RESERVE_LUA = `${EXPIRE_ONE}
local now, amount, exp, id, n, base, keep = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 20)
for _, d in ipairs(due) do expire_one(base, d, now, KEYS[2], keep) end
local st = redis.call('HMGET', KEYS[3], 'st', 'rc', 'amt', 'k')
if st[1] == '0' and not st[2] then return {1} end
if st[1] == '0' then
  -- Recreated by a load from a durable lease written before this reserve: not an admission yet.
  for ck in string.gmatch(st[4], '[^\\n]+') do
    if redis.call('EXISTS', ck) == 1 then redis.call('HINCRBY', ck, 'open', -tonumber(st[3])) end
  end
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[1], id)
end
local missing, counters = {2}, {}
for i = 1, n do
  local c = redis.call('HMGET', KEYS[3 + i], 'spent', 'open', 'limit', 'ep')
  if not c[4] then missing[#missing + 1] = i - 1 end
  counters[i] = c
end
if #missing > 1 then return missing end
for i = 1, n do
  local c = counters[i]
  local spent, open = tonumber(c[1]) or 0, tonumber(c[2]) or 0
  local limit = tonumber(ARGV[5 + i * 3])
  if ARGV[6 + i * 3] == '1' then limit = tonumber(c[3]) or 0 end
  if spent + open + amount > limit then return {0, i - 1, limit, spent, open} end
end
local ks = {}
for i = 1, n do
  redis.call('HINCRBY', KEYS[3 + i], 'open', amount)
  redis.call('PEXPIRE', KEYS[3 + i], ARGV[7 + i * 3])
  ks[i] = KEYS[3 + i]
end
redis.call('HSET', KEYS[3], 'amt', ARGV[2], 'st', '0', 'k', table.concat(ks, '\\n'), 'at', now, 'exp', exp)
local owner = ARGV[8 + n * 3]
if owner and owner ~= '' then redis.call('HSET', KEYS[3], 'o', owner) end
redis.call('PEXPIRE', KEYS[3], tonumber(exp) - tonumber(now) + keep)
redis.call('ZADD', KEYS[1], exp, id)
redis.call('PEXPIRE', KEYS[1], keep * 2 + 86400000)
return {1}
`;

/**
 * KEYS: leases, res, counter…  ARGV: actual, n, requestId, keepSettledMs, charge ('1': a cost no
 * reservation held, added to every loaded counter).
 * Answers 0 settled, 1 already settled, 2 lease expired, 3 unknown reservation.
 * The actual cost goes on the counters the reservation is held in (its `k`), never on another: a
 * counter loaded after Redis lost the reservation either read the request's usage record (the
 * load counted it) or recreated the reservation from its durable lease (then it is in `k`). A
 * counter not loaded now misses the cost: kept as `act`/`na`, for the load that recreates the
 * lease to add (see BUDGET_LOAD_LUA).
 */
export const BUDGET_SETTLE_LUA = `
local actual, n, id, keep, charge = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5] == '1'
local rec = redis.call('HMGET', KEYS[2], 'st', 'amt', 'k')
if rec[1] == '1' then return 1 end
if rec[1] == '2' then return 2 end
local open, held, missed = 0, {}, {}
if rec[1] == '0' then
  open = tonumber(rec[2])
  for ck in string.gmatch(rec[3], '[^\\n]+') do
    held[ck] = true
    if redis.call('EXISTS', ck) == 1 then
      if open ~= 0 then redis.call('HINCRBY', ck, 'open', -open) end
      if actual ~= 0 then redis.call('HINCRBY', ck, 'spent', actual) end
    else
      missed[#missed + 1] = ck
    end
  end
end
for i = 1, n do
  local ck = KEYS[2 + i]
  if not held[ck] then
    if redis.call('HEXISTS', ck, 'ep') == 0 then
      missed[#missed + 1] = ck
    elseif charge and actual ~= 0 then
      redis.call('HINCRBY', ck, 'spent', actual)
    end
  end
end
redis.call('HDEL', KEYS[2], 'amt', 'k', 'at', 'exp', 'o', 'rc')
redis.call('HSET', KEYS[2], 'st', '1')
if #missed > 0 and actual ~= 0 and not charge then redis.call('HSET', KEYS[2], 'act', actual, 'na', table.concat(missed, '\\n')) end
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('ZREM', KEYS[1], id)
if rec[1] == '0' then return 0 end
return 3
`;

/** KEYS: leases, expired.  ARGV: now, base, keepExpiredMs, max.  Answers the reports, drained. */
export const BUDGET_SWEEP_LUA = `${EXPIRE_ONE}
local now, base, keep, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)
for _, d in ipairs(due) do expire_one(base, d, now, KEYS[2], keep) end
local out = redis.call('LRANGE', KEYS[2], 0, max - 1)
if #out > 0 then redis.call('LTRIM', KEYS[2], #out, -1) end
return out
`;

/**
 * KEYS: counter, leases.  ARGV: spent, loadedAt, ttlMs, balance ('' unless a balance counter),
 * replace (1/0), ledger seq the balance includes ('' for none), base, keepMs, then five per open
 * durable lease: requestId, amount, expiresAt, reservedAt, owner.  Answers 1 if loaded.
 * `spent` is the usage records' sum, read in one snapshot with the open leases: a request is in
 * one or the other (its record's write deletes its lease). Each open lease's reservation is made
 * again (`rc`: recreated) if Redis lost it, or extended to this counter; one settled or expired
 * while this counter was not loaded adds its cost here (its record was not in `spent`), and so does
 * one whose lease expired while it held other counters only (made again by their loads first).
 */
export const BUDGET_LOAD_LUA = `
if ARGV[5] ~= '1' and redis.call('HEXISTS', KEYS[1], 'ep') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'ep', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'limit', ARGV[4]) end
if ARGV[6] and ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'seq', ARGV[6]) end
redis.call('HSETNX', KEYS[1], 'open', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local now, base, keep, ck = tonumber(ARGV[2]), ARGV[7], tonumber(ARGV[8]), KEYS[1]
local function has(list, key)
  if not list then return false end
  for x in string.gmatch(list, '[^\\n]+') do if x == key then return true end end
  return false
end
for i = 9, #ARGV, 5 do
  local id, amt, exp = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local rk = base .. 'res:' .. id
  local rec = redis.call('HMGET', rk, 'st', 'k', 'act', 'na', 'x')
  if not rec[1] then
    redis.call('HSET', rk, 'st', '0', 'amt', amt, 'k', ck, 'at', ARGV[i + 3], 'exp', ARGV[i + 2], 'rc', '1')
    if ARGV[i + 4] ~= '' then redis.call('HSET', rk, 'o', ARGV[i + 4]) end
    redis.call('PEXPIRE', rk, math.max(exp - now, 0) + keep)
    redis.call('ZADD', KEYS[2], exp, id)
    redis.call('PEXPIRE', KEYS[2], keep * 2 + 86400000)
    redis.call('HINCRBY', ck, 'open', amt)
  elseif rec[1] == '0' then
    if not has(rec[2], ck) then
      redis.call('HSET', rk, 'k', rec[2] .. '\\n' .. ck)
      redis.call('HINCRBY', ck, 'open', amt)
    end
  elseif rec[1] == '2' and not has(rec[5], ck) then
    -- Charged by its lease before this counter was loaded, and so not among those it held (x):
    -- its lease still open, its record is not in spent, and the charge is this counter's too.
    redis.call('HINCRBY', ck, 'spent', amt)
    redis.call('HSET', rk, 'x', rec[5] and (rec[5] .. '\\n' .. ck) or ck)
  elseif has(rec[4], ck) then
    redis.call('HINCRBY', ck, 'spent', rec[3])
    local rest = {}
    for x in string.gmatch(rec[4], '[^\\n]+') do if x ~= ck then rest[#rest + 1] = x end end
    redis.call('HSET', rk, 'na', table.concat(rest, '\\n'))
  end
end
return 1
`;

/**
 * KEYS: res, counter…  ARGV: delta.  A reservation charged in full by its lease whose request's
 * own usage record was written (a lost settle): its counters take the difference, once.
 */
export const BUDGET_CORRECT_LUA = `
if redis.call('HGET', KEYS[1], 'st') ~= '2' or redis.call('HEXISTS', KEYS[1], 'cr') == 1 then return 0 end
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'ep') == 1 then redis.call('HINCRBY', KEYS[i], 'spent', ARGV[1]) end
end
redis.call('HSET', KEYS[1], 'cr', '1')
return 1
`;

/**
 * KEYS: counter.  ARGV: amount, the top-up's ledger seq ('' for none).  Answers 1, or 0 when the
 * counter is not loaded or its loaded balance already includes that ledger entry.
 */
export const BUDGET_TOPUP_LUA = `
if redis.call('HEXISTS', KEYS[1], 'ep') == 0 then return 0 end
if ARGV[2] and ARGV[2] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'limit', ARGV[1])
return 1
`;

/**
 * KEYS: res, counter…  Answers 1 when the request named by a durable lease certainly never got a
 * reservation here: Redis has no trace of it (open, settled or expired ones are remembered at
 * least SETTLED_MEMORY_MS past their lease) while every counter it names is loaded. A counter
 * loaded since the lease was written read it and made its reservation again; one loaded before
 * kept its state since, so a reservation made on it would be here. 0 otherwise (unknown: Redis
 * may have lost it with a counter not loaded again yet).
 */
export const BUDGET_NEVER_RESERVED_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #KEYS do
  if redis.call('HEXISTS', KEYS[i], 'ep') == 0 then return 0 end
end
return 1
`;
