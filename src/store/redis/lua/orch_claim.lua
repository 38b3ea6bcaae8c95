-- orch_claim: a chain's timer is due (its notice was read). For the current sq: a waiting chain is
-- taken for its next send (again by another process when the first died before orch_sent); an
-- attempt in flight whose receipt window passed is abandoned and the chain moves on. "D": the
-- give-up time passed, the chain is expired.
-- in:  ARGV[4] chain id, [5] timer token (sq or 'D'), [6] a fresh message id (used unless one is planned)
-- out: { 'send', plan JSON, step, retries done, spent micros, message id, account } |
--      { 'moved', status } (abandoned or expired; the chain's new status) | { 'stale' }
local ID, TOKEN = ARGV[4], ARGV[5]
local k = oc_key(ID)
local v = redis.call('HMGET', k, 'st', 'sq', 'i', 'r', 'sp', 'pm', 'j', 'dl', 'a')
local st = v[1]
if not st or OC_FINAL[st] then return { 'stale' } end
if TOKEN == 'D' then
  if st == 'inflight' then oc_abandon(ID, k, 'expired') end
  local out = oc_finish(ID, 'expired', 'retry window passed', '')
  flush_events()
  return { 'moved', out }
end
if v[2] ~= TOKEN then return { 'stale' } end
if st == 'waiting' or st == 'sending' then
  local pm = v[6]
  if not pm or pm == '' then pm = ARGV[6] end
  redis.call('HSET', k, 'st', 'sending', 'pm', pm)
  return { 'send', v[7], v[3], v[4], v[5], pm, v[9] }
end
-- inflight: no final outcome within the receipt window
oc_abandon(ID, k, 'timeout')
local out = oc_advance(ID, false, 'no delivery receipt within the window')
flush_events()
return { 'moved', out }
