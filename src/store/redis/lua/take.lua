-- take: a dispatcher claims messages of its queue entries for sending.
-- in:  ARGV[4] upstream, [5] count, then per message (stride 2): message id, redelivered (1 when
--      its entry was claimed from a dead consumer's pending list)
-- out: per message to send: { message id, payload JSON, attempt, registered_delivery, expireAt };
--      messages that must not be sent (cancelled, final, expired, gone) are left out, and the
--      dispatcher counts them settled (it acks the entries, queue_ack.lua).
local N = tonumber(ARGV[5])
local out = {}
for i = 0, N - 1 do
  local o = 5 + i * 2
  local id, redelivered = ARGV[o + 1], ARGV[o + 2]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'exp', 'j', 'att', 'rd')
  local st = v[1]
  if st == 'queued' or (st == 'sending' and redelivered == '1') then
    local exp = tonumber(v[2]) or 0
    if exp > 0 and NOW >= exp then
      finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
    else
      local att = (tonumber(v[4]) or 0) + 1
      redis.call('HSET', k, 'st', 'sending', 'att', num(att))
      out[#out + 1] = { id, v[3], att, v[5] or '0', v[2] or '0' }
    end
  end
end
flush_events()
return out
