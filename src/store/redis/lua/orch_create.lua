-- orch_create: store a new chain and set its timers (the first send, the give-up time).
-- in:  ARGV[4] chain id, [5] account, [6] plan JSON, [7] first send time ms, [8] give-up time ms (0 none),
--      [9] max retries, [10] retry delay ms, [11] backoff base ms, [12] sequential (1/0),
--      [13] receipt window ms, [14] steps the chain may use, [15] the first message's id,
--      [16] idempotency key ('' none), [17] its record, [18] its TTL s, [19] retention s of a running chain
-- out: { 'ok' } or { 'dup', record } when the idempotency key was seen (nothing stored)
local ID, ACCT, PLAN = ARGV[4], ARGV[5], ARGV[6]
local START, DL = tonumber(ARGV[7]), tonumber(ARGV[8])
local IDEM = ARGV[16]
if IDEM ~= '' then
  local seen = redis.call('HGET', IDEM, 'r')
  if seen then return { 'dup', seen } end
end
local k = oc_key(ID)
if redis.call('EXISTS', k) == 1 then return { 'dup', '' } end
redis.call('HSET', k, 'a', ACCT, 'j', PLAN, 'st', 'waiting', 'i', 0, 'r', 0, 'sq', 1, 'n', 0, 'sp', 0,
  'dl', DL, 'mr', ARGV[9], 'rd', ARGV[10], 'bo', ARGV[11], 'sf', ARGV[12], 'w', ARGV[13], 'ns', ARGV[14],
  'pm', ARGV[15], 'mid', '', 't0', NOW)
-- Kept while it may run: the retention from its start (a chain may start days from now).
redis.call('EXPIRE', k, tonumber(ARGV[19]) + math.ceil(math.max(0, START - NOW) / 1000))
redis.call('ZADD', P .. 'timers', math.max(START, NOW), 'o|' .. ID .. '|1')
if DL > 0 then redis.call('ZADD', P .. 'timers', DL, 'o|' .. ID .. '|D') end
if IDEM ~= '' then
  redis.call('HSET', IDEM, 'r', ARGV[17])
  redis.call('EXPIRE', IDEM, tonumber(ARGV[18]))
end
return { 'ok' }
