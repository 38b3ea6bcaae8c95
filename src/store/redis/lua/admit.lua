-- admit: accept a batch of messages in one round trip.
-- in:  ARGV[4] platform tps, [5] platform burst, [6] retention seconds, [7] count, then per message
--      (stride 14): id, account, tps, burst, upstream, price micros, registered_delivery (0/1/2),
--      scheduleAt ms (0 none), expireAt ms, payload JSON, event base, receipt addressing JSON, webhook url,
--      currency
-- out: one code per message: 0 accepted, 1 account throttled, 2 platform throttled, 3 balance too low
local PTPS, PBURST = tonumber(ARGV[4]), tonumber(ARGV[5])
local RET, N = tonumber(ARGV[6]), tonumber(ARGV[7])
local STRIDE = 14
local buckets = {}

-- Token bucket: `rate` tokens a second up to `burst`, refilled from the time of the last use.
local function bucket(key, rate, burst)
  local b = buckets[key]
  if b then return b end
  local v = redis.call('HMGET', key, 't', 'ts')
  local t = tonumber(v[1]) or burst
  local ts = tonumber(v[2]) or NOW
  if NOW > ts then t = math.min(burst, t + (NOW - ts) * rate / 1000) end
  b = { t = t }
  buckets[key] = b
  return b
end

-- Balances are read once per account and written once per batch (DECRBY of the batch's total).
local balances = {}
local function balance(acct)
  local b = balances[acct]
  if not b then
    b = { left = tonumber(redis.call('GET', P .. 'bal:' .. acct) or '0'), spent = 0 }
    balances[acct] = b
  end
  return b
end

local platform = bucket(P .. 'tb:platform', PTPS, PBURST)
local out = {}
for i = 0, N - 1 do
  local o = 7 + i * STRIDE
  local id, acct = ARGV[o + 1], ARGV[o + 2]
  local acc = bucket(P .. 'tb:' .. acct, tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4]))
  local price = tonumber(ARGV[o + 6])
  local code = 0
  if acc.t < 1 then
    code = 1
  elseif platform.t < 1 then
    code = 2
  elseif price > 0 then
    local bal = balance(acct)
    if bal.left < price then
      code = 3
    else
      bal.left = bal.left - price
      bal.spent = bal.spent + price
    end
  end
  if code == 0 then
    acc.t = acc.t - 1
    platform.t = platform.t - 1
    local up, sched, exp = ARGV[o + 5], tonumber(ARGV[o + 8]), tonumber(ARGV[o + 9])
    local k = mkey(id)
    local st = 'queued'
    if sched > NOW then st = 'scheduled' end
    redis.call('HSET', k, 'st', st, 'a', acct, 'up', up, 'pr', ARGV[o + 6], 'rd', ARGV[o + 7],
      'exp', ARGV[o + 9], 'j', ARGV[o + 10], 'eb', ARGV[o + 11], 'ra', ARGV[o + 12], 'wh', ARGV[o + 13],
      'cur', ARGV[o + 14], 't0', NOW, 'att', 0, 'seq', 1)
    redis.call('EXPIRE', k, RET)
    if st == 'scheduled' then
      redis.call('ZADD', P .. 'timers', sched, 's|' .. id)
    else
      redis.call('XADD', P .. 'q:' .. up, '*', 'i', id)
    end
    -- Validity end: a message not final by then becomes expired (timers.lua).
    redis.call('ZADD', P .. 'timers', exp, 'x|' .. id)
    EVBUF[#EVBUF + 1] = ARGV[o + 11] .. ',"event_id":"' .. id .. ':1","status":"' .. st ..
      '","error_code":"","upstream_message_id":"","event_time":' .. NOW .. '}'
  end
  out[i + 1] = code
end
for acct, b in pairs(balances) do
  if b.spent > 0 then redis.call('DECRBY', P .. 'bal:' .. acct, b.spent) end
end
for key, b in pairs(buckets) do
  redis.call('HSET', key, 't', tostring(b.t), 'ts', NOW)
  redis.call('PEXPIRE', key, 60000)
end
flush_events()
return out
