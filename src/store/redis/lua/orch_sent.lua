-- orch_sent: what a send of a chain came to, recorded for the claim that made it (st sending, same sq).
-- in:  ARGV[4] chain id, [5] timer token, [6] skipped steps (JSON array of attempts, may be '[]'),
--      [7] kind: 'admitted' | 'refused' | 'none', [8] step index, [9] channel, [10] message id,
--      [11] price micros, [12] error code (refused), [13] retryable (1/0), [14] why (none: why no step is left)
-- out: 'inflight' | 'waiting' | a final chain status | 'stale'
local ID, TOKEN = ARGV[4], ARGV[5]
local k = oc_key(ID)
local v = redis.call('HMGET', k, 'st', 'sq', 'i', 'sp', 'w', 'mid')
if v[1] ~= 'sending' or v[2] ~= TOKEN then
  -- The chain moved on while this send was made (its give-up time passed): the message must not
  -- go. Unless it is the message the chain recorded and waits on: a send claimed twice (its
  -- process presumed dead) made one message under the planned id, and both claims record it.
  local mid = ARGV[10]
  if ARGV[7] == 'admitted' and mid ~= v[6] and cancel_unsent(mid, hash_of(mid, 'st')[1]) then flush_events() end
  return 'stale'
end
local skipped = cjson.decode(ARGV[6])
for _, att in ipairs(skipped) do oc_attempt_add(k, att) end
local KIND = ARGV[7]
if KIND == 'none' then return oc_finish(ID, 'failed', ARGV[14], '') end
local step = tonumber(ARGV[8])
-- A later step than the current one starts its own retry count.
if tostring(step) ~= v[3] then redis.call('HSET', k, 'i', step, 'r', 0) end
local CH, MID, PRICE = ARGV[9], ARGV[10], tonumber(ARGV[11])
if KIND == 'refused' then
  oc_attempt_add(k, { ch = CH, st = 'refused', err = ARGV[12], cost = 0 })
  return oc_advance(ID, ARGV[13] == '1', 'refused: ' .. ARGV[12])
end
local n = oc_attempt_add(k, { ch = CH, mid = MID, st = 'sent', err = '', cost = PRICE })
local sq = tonumber(v[2]) + 1
redis.call('HSET', k, 'st', 'inflight', 'mid', MID, 'pm', '', 'sq', sq, 'sp', (tonumber(v[4]) or 0) + PRICE)
redis.call('ZADD', P .. 'timers', NOW + tonumber(v[5]), 'o|' .. ID .. '|' .. sq)
-- From now on finalize() tells the chain; a message already final is told here, the same way.
-- A step's message admitted to wait in its queue gets its hash now (hash_of), to be told it belongs to the chain.
local m, mk = hash_of(MID, 'st', 'err', 'k', 'o')
if m[1] and FINAL[m[1]] then
  local billed = 0
  if m[1] == 'delivered' then billed = tonumber((select(3, core(mk, m[3])))) or 0 end
  -- The error code from the outcome (common.lua outcome_of), or the field of an older hash.
  local err = m[2]
  if m[4] then err = outcome_err(m[4]) end
  redis.call('XADD', P .. 'orn', '*', 'k', 'f', 'c', ID, 'n', n, 'i', MID, 's', m[1], 'e', err or '', 'p', billed)
elseif m[1] then
  redis.call('HSET', mk, 'oc', ID .. '|' .. n)
end
return 'inflight'
