-- campaign_claim: hand the next recipients of a running campaign to one sender, paced.
-- in:  ARGV[4] campaign ref (account:campaignId), [5] most recipients wanted, [6] lease ms
-- out: { 'claim', lease, reclaimed (0/1), index1, recipient1 JSON, index2, … }
--      { 'wait', ms }              nothing may go now (rate, maxConcurrent, deferred not due)
--      { 'idle', status }          not running, or nothing left ('completed' once every message is final)
--
-- Keys (keys.ts): cp:{ref} hash (st status, n recipients stored, cur next index, ing 1 while the
-- upload runs, rate, mc maxConcurrent, sent, fin (final messages, counted by finalize()), lsd
-- recipients in unfinished leases, tb/tbts the campaign's token bucket, lseq), cpr:{ref} hash
-- index → recipient JSON, cpl:{ref} zset lease → expiry, cpd:{ref} zset index → due ms, cpa the
-- active campaigns.
--
-- A lease is the claim's unit of exactly-once: it names its recipients ("r:<from>:<to>" a range,
-- "l:<seq>:<i,j,…>" a list) and stays in cpl until campaign_done settles it. A lease whose holder
-- died (expired) is handed out again as it was, so the new holder admits the same recipients
-- under the same idempotency key and nothing is sent twice.
local REF, WANT, LEASE = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local K = P .. 'cp:' .. REF
local R = P .. 'cpr:' .. REF
local L = P .. 'cpl:' .. REF
local D = P .. 'cpd:' .. REF

local h = redis.call('HMGET', K, 'st', 'n', 'cur', 'ing', 'rate', 'mc', 'sent', 'fin', 'lsd', 'tb', 'tbts')
local st = h[1]
if st ~= 'running' then
  -- Only uploads and running campaigns are polled (campaign_control.lua); one left in cpa in another
  -- state (paused or scheduled by an earlier release) leaves it here.
  if st ~= 'ingesting' then redis.call('ZREM', P .. 'cpa', REF) end
  return { 'idle', st or 'unknown' }
end

local function with_recipients(out, idx)
  if #idx == 0 then return out end
  local recs = redis.call('HMGET', R, unpack(idx))
  for i = 1, #idx do
    out[#out + 1] = idx[i]
    out[#out + 1] = recs[i] or ''
  end
  return out
end

local function indices_of(lease)
  local idx = {}
  local a, b = string.match(lease, '^r:(%d+):(%d+)$')
  if a then
    for i = tonumber(a), tonumber(b) - 1 do idx[#idx + 1] = i end
  else
    local list = string.match(lease, '^l:%d+:(.*)$') or ''
    for one in string.gmatch(list, '[^,]+') do idx[#idx + 1] = tonumber(one) end
  end
  return idx
end

-- A lease whose holder is gone: the same recipients again, before anything new.
local stale = redis.call('ZRANGEBYSCORE', L, '-inf', NOW, 'LIMIT', 0, 1)
if stale[1] then
  redis.call('ZADD', L, NOW + LEASE, stale[1])
  return with_recipients({ 'claim', stale[1], 1 }, indices_of(stale[1]))
end

local n, cur = tonumber(h[2]) or 0, tonumber(h[3]) or 0
local rate = tonumber(h[5]) or 1
local burst = math.max(1, rate)
local tb, tbts = tonumber(h[10]), tonumber(h[11]) or NOW
if not tb then tb = burst end
if NOW > tbts then tb = math.min(burst, tb + (NOW - tbts) * rate / 1000) end
local inflight = (tonumber(h[7]) or 0) - (tonumber(h[8]) or 0) + (tonumber(h[9]) or 0)
local mc = tonumber(h[6]) or 0

local due = redis.call('ZRANGEBYSCORE', D, '-inf', NOW, 'LIMIT', 0, 1)
local nothing_left = cur >= n and not due[1]
if nothing_left then
  if h[4] == '1' or redis.call('ZCARD', L) > 0 then return { 'wait', 200 } end
  local first = redis.call('ZRANGE', D, 0, 0, 'WITHSCORES')
  if first[1] then return { 'wait', math.max(1, math.min(1000, tonumber(first[2]) - NOW)) } end
  if inflight > 0 then return { 'wait', 200 } end
  redis.call('HSET', K, 'st', 'completed', 'tdone', NOW)
  redis.call('ZREM', P .. 'cpa', REF)
  -- Every recipient had its message and every message its outcome: the recipients (the bulk of a
  -- campaign, kept until now only to hand them out) go; the campaign's hash and errors stay.
  redis.call('UNLINK', R, L, D)
  return { 'idle', 'completed' }
end

local k = math.min(WANT, math.floor(tb))
if mc > 0 then k = math.min(k, mc - inflight) end
if k < 1 then
  if tb < 1 then return { 'wait', math.max(1, math.ceil((1 - tb) * 1000 / rate)) } end
  return { 'wait', 20 }
end

local idx = {}
local lease
local dues = redis.call('ZRANGEBYSCORE', D, '-inf', NOW, 'LIMIT', 0, k)
if #dues > 0 then
  for _, i in ipairs(dues) do idx[#idx + 1] = tonumber(i) end
  redis.call('ZREM', D, unpack(dues))
  lease = 'l:' .. redis.call('HINCRBY', K, 'lseq', 1) .. ':' .. table.concat(dues, ',')
else
  local to = math.min(n, cur + k)
  for i = cur, to - 1 do idx[#idx + 1] = i end
  lease = 'r:' .. cur .. ':' .. to
  redis.call('HSET', K, 'cur', to)
end
redis.call('HSET', K, 'tb', tostring(tb - #idx), 'tbts', NOW)
redis.call('HINCRBY', K, 'lsd', #idx)
redis.call('ZADD', L, NOW + LEASE, lease)
return with_recipients({ 'claim', lease, 0 }, idx)
