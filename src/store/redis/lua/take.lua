-- take: a dispatcher claims messages of its queue entries for sending.
-- in:  ARGV[4] upstream, [5] count, then per message (stride 2): message id, redelivered (1 when
--      its entry was claimed from a dead consumer's pending list)
-- out: per message to send: { message id, payload (stored-message.ts), attempt,
--      registered_delivery, expireAt };
--      messages that must not be sent (cancelled, final, expired, gone) are left out, and the
--      dispatcher counts them settled (it acks the entries, queue_ack.lua).
local N = tonumber(ARGV[5])
local out = {}
for i = 0, N - 1 do
  local o = 5 + i * 2
  local id, redelivered = ARGV[o + 1], ARGV[o + 2]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'k', 'j', 'att')
  -- A message admitted to wait has no hash until now (common.lua materialize).
  if not v[1] and materialize(id) then v = redis.call('HMGET', k, 'st', 'k', 'j', 'att') end
  local st = v[1]
  if st == 'queued' or (st == 'sending' and redelivered == '1') then
    local _, _, _, exp, _, _, _, rd = core(k, v[2])
    local exp_ms = tonumber(exp) or 0
    if exp_ms > 0 and NOW >= exp_ms then
      finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
    else
      local att = (tonumber(v[4]) or 0) + 1
      redis.call('HSET', k, 'st', 'sending', 'att', num(att))
      out[#out + 1] = { id, v[3], att, present(rd) and rd or '0', present(exp) and exp or '0' }
    end
  end
end
flush_events()
return out
