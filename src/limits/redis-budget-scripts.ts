/**
 * Lua for the Redis budget counter (rules in budget.ts). Keys under `<prefix>{<tag>}:`:
 *   b:<subject>:<periodKey>  hash spent, open, limit (balance), ep (loaded marker: load time)
 *   res:<requestId>          hash amt, st (0 open, 1 settled, 2 lease expired), k (counter keys), at, exp;
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
  for ck in string.gmatch(rec[3], '[^\\n]+') do
    if amt ~= 0 and redis.call('EXISTS', ck) == 1 then
      redis.call('HINCRBY', ck, 'open', -amt)
      redis.call('HINCRBY', ck, 'spent', amt)
    end
  end
  redis.call('HDEL', rk, 'amt', 'k', 'at', 'exp', 'o')
  redis.call('HSET', rk, 'st', '2')
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
local st = redis.call('HGET', KEYS[3], 'st')
if st == '0' then return {1} end
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
 * KEYS: leases, res, counter…  ARGV: actual, n, requestId, keepSettledMs, countedBefore.
 * Answers 0 settled, 1 already settled, 2 lease expired, 3 unknown reservation.
 * An unknown reservation (Redis lost it) adds its cost only to a counter loaded before
 * `countedBefore`: a counter loaded later read the request's usage record already (a settle held
 * through an outage and replayed after a reload counted it twice).
 */
export const BUDGET_SETTLE_LUA = `
local actual, n, id, keep, countedBefore = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local rec = redis.call('HMGET', KEYS[2], 'st', 'amt')
if rec[1] == '1' then return 1 end
if rec[1] == '2' then return 2 end
local open = 0
if rec[1] == '0' then open = tonumber(rec[2]) end
for i = 1, n do
  local ck = KEYS[2 + i]
  local ep = tonumber(redis.call('HGET', ck, 'ep'))
  if ep then
    if open ~= 0 then redis.call('HINCRBY', ck, 'open', -open) end
    if actual ~= 0 and (rec[1] == '0' or ep < countedBefore) then redis.call('HINCRBY', ck, 'spent', actual) end
  end
end
redis.call('HDEL', KEYS[2], 'amt', 'k', 'at', 'exp', 'o')
redis.call('HSET', KEYS[2], 'st', '1')
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
 * KEYS: counter.  ARGV: spent, loadedAt, ttlMs, balance ('' unless a balance counter), replace (1/0),
 * ledger seq the balance includes ('' for none).  Answers 1 if loaded.
 */
export const BUDGET_LOAD_LUA = `
if ARGV[5] ~= '1' and redis.call('HEXISTS', KEYS[1], 'ep') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'ep', ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'limit', ARGV[4]) end
if ARGV[6] and ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'seq', ARGV[6]) end
redis.call('HSETNX', KEYS[1], 'open', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
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
