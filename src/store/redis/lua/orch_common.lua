-- Shared by the orch_* scripts (scripts.ts prepends it after common.lua): one orchestration chain's
-- state moves. A chain is the hash {p}oc:{id} (keys.ts):
--   a account, j the plan (JSON, router/orchestrator.ts StoredPlan), ns steps it may use,
--   st waiting | sending | inflight | delivered | failed | expired, i current step, r retries done on it,
--   sq the transition count (every timer carries the sq it was set for: an older one does nothing),
--   pm the message id planned for the next send, mid the message in flight, sp micros spent,
--   n attempts recorded, a<k> attempt k (JSON: ch, mid, st, err, cost, t, late, why),
--   dl give-up time (0 none), mr max retries, rd retry delay ms, bo backoff base ms, sf sequential (1/0),
--   w receipt window ms, t0 created, td done, fr why it ended, fc the channel that delivered.
-- Timers are "o|<chain>|<sq>" (the next send, or the receipt window of the attempt in flight) and
-- "o|<chain>|D" (the give-up time), members of the one {p}timers zset; timers.lua turns a due one
-- into a notice on {p}orn, as finalize() does for a message of a chain.
local OC_FINAL = { delivered = true, failed = true, expired = true }

local function oc_key(id) return P .. 'oc:' .. id end

local function oc_attempt_add(k, att)
  local n = redis.call('HINCRBY', k, 'n', 1)
  att.t = att.t or NOW
  redis.call('HSET', k, 'a' .. n, cjson.encode(att))
  return n
end

local function oc_attempt(k, n)
  local raw = redis.call('HGET', k, 'a' .. n)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- The chain ends: its final status, why, and the channel that delivered ('' none).
local function oc_finish(id, status, why, channel)
  local k = oc_key(id)
  redis.call('HSET', k, 'st', status, 'td', NOW, 'fr', why or '', 'fc', channel or '', 'pm', '')
  redis.call('ZREM', P .. 'timers', 'o|' .. id .. '|D')
  redis.call('EXPIRE', k, FINAL_RET)
  return status
end

-- The attempt in flight is given up (receipt window or give-up time passed): recorded as `why`, and
-- its message cancelled when it has not left yet (its late outcome then comes back as a notice).
local function oc_abandon(id, k, why)
  local v = redis.call('HMGET', k, 'mid', 'n')
  local mid = v[1]
  if not mid or mid == '' then return end
  local n = tonumber(v[2]) or 0
  local att = oc_attempt(k, n)
  if att and att.mid == mid and att.st == 'sent' then
    att.st = why
    redis.call('HSET', k, 'a' .. n, cjson.encode(att))
  end
  cancel_unsent(mid, hash_of(mid, 'st')[1])
  redis.call('HSET', k, 'mid', '')
end

-- After a failure of the current step: the same channel again with exponential backoff when the
-- error is retryable and retries are left, else the next channel (sequential) or the last one
-- (sequentialFallback false) after the retry delay; past the list the chain has failed.
local function oc_advance(id, retryable, why)
  local k = oc_key(id)
  local s = redis.call('HMGET', k, 'i', 'r', 'mr', 'rd', 'bo', 'sf', 'ns', 'sq')
  local i, r = tonumber(s[1]) or 0, tonumber(s[2]) or 0
  local ns = tonumber(s[7]) or 0
  local delay
  if retryable and r < (tonumber(s[3]) or 0) then
    r = r + 1
    delay = (tonumber(s[5]) or 0) * 2 ^ (r - 1)
  else
    r = 0
    delay = tonumber(s[4]) or 0
    if s[6] == '1' or i >= ns - 1 then i = i + 1 else i = ns - 1 end
  end
  if i >= ns then return oc_finish(id, 'failed', why, '') end
  local sq = (tonumber(s[8]) or 0) + 1
  redis.call('HSET', k, 'st', 'waiting', 'i', i, 'r', r, 'sq', sq, 'mid', '', 'pm', '')
  redis.call('ZADD', P .. 'timers', NOW + delay, 'o|' .. id .. '|' .. sq)
  return 'waiting'
end
