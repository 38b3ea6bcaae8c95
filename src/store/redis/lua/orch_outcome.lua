-- orch_outcome: a message of a chain reached its final state (the notice finalize() wrote). The
-- attempt in flight moves the chain: delivered ends it, a failure fails over (oc_advance). An
-- attempt already abandoned only records it as late; a late `delivered` while the next channel has
-- not been sent yet ends the chain delivered (nothing else is sent). A repeated notice changes nothing.
-- in:  ARGV[4] chain id, [5] attempt number, [6] message id, [7] status, [8] error code,
--      [9] billed micros, [10] retryable (1/0)
-- out: 'late' | 'waiting' | a final chain status (this notice ended the chain) | 'stale'
local ID, N, MID, STATUS, ERR = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local BILLED = tonumber(ARGV[9]) or 0
local k = oc_key(ID)
local att = oc_attempt(k, N)
if not att or att.mid ~= MID then return 'stale' end
local v = redis.call('HMGET', k, 'st', 'mid', 'sp')
local sp = (tonumber(v[3]) or 0) - (tonumber(att.cost) or 0) + BILLED
att.cost = BILLED
if att.st == 'sent' and v[1] == 'inflight' and v[2] == MID then
  att.st, att.err = STATUS, ERR
  redis.call('HSET', k, 'a' .. N, cjson.encode(att), 'sp', sp)
  if STATUS == 'delivered' then return oc_finish(ID, 'delivered', 'delivered', att.ch) end
  redis.call('HSET', k, 'mid', '')
  return oc_advance(ID, ARGV[10] == '1', STATUS .. (ERR ~= '' and (': ' .. ERR) or ''))
end
if att.late or att.st == 'sent' or att.st == STATUS then return 'stale' end
att.late, att.lateErr = STATUS, ERR
redis.call('HSET', k, 'a' .. N, cjson.encode(att), 'sp', sp)
if STATUS == 'delivered' and v[1] == 'waiting' then
  return oc_finish(ID, 'delivered', 'delivered late, after the receipt window', att.ch)
end
return 'late'
