/**
 * Lua for the Redis rate limiter; the same sliding logs as `memory-rate.ts`.
 * Per subject three keys: log (zset requestId → admit time, the requests in the window),
 * amt (hash requestId → tokens, and "_sum"), slots (zset requestId → lease end).
 * Every key gets an expiry, so idle subjects vanish by themselves.
 * Never pass HINCRBY a negated zero: Lua writes it "-0", which Redis refuses as not an integer.
 */
export const RATE_ADMIT_LUA = `
local now, W, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local id, lease, n = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local cut = now - W
local used = {}
local refusedIdx, refusedKind, retryMs = -1, -1, 0
for i = 0, n - 1 do
  local rpm, tpm, cc = tonumber(ARGV[7 + i * 3]), tonumber(ARGV[8 + i * 3]), tonumber(ARGV[9 + i * 3])
  local klog, kamt, kcc = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local rc, ts, sc = 0, 0, 0
  local retry, kind = -2, -1
  if tpm > 0 then
    while true do
      local old = redis.call('ZRANGEBYSCORE', klog, '-inf', cut, 'LIMIT', 0, 500)
      if #old == 0 then break end
      local amts = redis.call('HMGET', kamt, unpack(old))
      local s = 0
      for j = 1, #amts do s = s + (tonumber(amts[j]) or 0) end
      redis.call('HDEL', kamt, unpack(old))
      redis.call('ZREM', klog, unpack(old))
      if s ~= 0 then redis.call('HINCRBY', kamt, '_sum', -s) end
    end
    ts = tonumber(redis.call('HGET', kamt, '_sum')) or 0
  elseif rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', klog, '-inf', cut)
  end
  if rpm > 0 then
    rc = redis.call('ZCARD', klog)
    if rc + 1 > rpm then
      kind = 0
      retry = tonumber(redis.call('ZRANGE', klog, rc - rpm, rc - rpm, 'WITHSCORES')[2]) + W - now
    end
  end
  if tpm > 0 and ts + tokens > tpm then
    local r = W
    if tokens > tpm then r = -1 else
      local entries = redis.call('ZRANGE', klog, 0, -1, 'WITHSCORES')
      local sum = ts
      for j = 1, #entries, 2 do
        sum = sum - (tonumber(redis.call('HGET', kamt, entries[j])) or 0)
        if sum + tokens <= tpm then r = tonumber(entries[j + 1]) + W - now break end
      end
    end
    if kind < 0 or r < 0 or (retry >= 0 and r > retry) then kind = 1 retry = r end
  end
  if cc > 0 then
    redis.call('ZREMRANGEBYSCORE', kcc, '-inf', now)
    sc = redis.call('ZCARD', kcc)
    if sc + 1 > cc and kind < 0 then kind = 2 retry = 1000 end
  end
  if kind >= 0 and (refusedIdx < 0 or retry < 0 or (retryMs >= 0 and retry > retryMs)) then
    refusedIdx, refusedKind, retryMs = i, kind, retry
  end
  used[i * 3 + 1], used[i * 3 + 2], used[i * 3 + 3] = rc, ts, sc
end
local admitted = refusedIdx < 0
if admitted then
  for i = 0, n - 1 do
    local rpm, tpm, cc = tonumber(ARGV[7 + i * 3]), tonumber(ARGV[8 + i * 3]), tonumber(ARGV[9 + i * 3])
    local klog, kamt, kcc = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
    if rpm > 0 or tpm > 0 then
      redis.call('ZADD', klog, now, id)
      redis.call('PEXPIRE', klog, W + 1000)
    end
    if tpm > 0 then
      redis.call('HSET', kamt, id, ARGV[3])
      redis.call('HINCRBY', kamt, '_sum', tokens)
      redis.call('PEXPIRE', kamt, W + 1000)
    end
    if cc > 0 then
      redis.call('ZADD', kcc, now + lease, id)
      local last = tonumber(redis.call('ZRANGE', kcc, -1, -1, 'WITHSCORES')[2])
      redis.call('PEXPIRE', kcc, last - now + 1000)
    end
  end
end
local out = {admitted and 1 or 0, -1, 0, 0, -1, 0, 0, -1, 0, 0, refusedIdx, refusedKind, retryMs}
for i = 0, n - 1 do
  for k = 0, 2 do
    local limit = tonumber(ARGV[7 + i * 3 + k])
    if limit > 0 then
      local u = used[i * 3 + k + 1]
      if admitted then if k == 1 then u = u + tokens else u = u + 1 end end
      local remaining = limit - u
      local o = 2 + k * 3
      if out[o] < 0 or remaining < out[o + 1] or (remaining == out[o + 1] and limit < out[o]) then
        out[o] = limit
        out[o + 1] = remaining
        if k == 2 then out[o + 2] = now elseif u > 0 then out[o + 2] = now + W else out[o + 2] = now end
      end
    end
  end
end
return out
`;

/** Correct a request's tokens (if its entry is still in the window) and free its slot. KEYS per subject: amt, slots. */
export const RATE_SETTLE_LUA = `
local now, W, id, actual, at, n = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
for i = 0, n - 1 do
  local tpm, cc = tonumber(ARGV[7 + i * 2]), tonumber(ARGV[8 + i * 2])
  local kamt, kcc = KEYS[i * 2 + 1], KEYS[i * 2 + 2]
  if tpm > 0 and at > now - W then
    local old = tonumber(redis.call('HGET', kamt, id))
    if old and old ~= actual then
      redis.call('HSET', kamt, id, ARGV[4])
      redis.call('HINCRBY', kamt, '_sum', actual - old)
    end
  end
  if cc > 0 then redis.call('ZREM', kcc, id) end
end
return 1
`;
