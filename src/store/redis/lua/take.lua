-- take: a dispatcher claims a batch of queue entries for sending.
-- in:  ARGV[4] upstream, [5] count, then per entry (stride 3): stream entry id, message id,
--      redelivered (1 when claimed from a dead consumer's pending list)
-- out: per message to send: { entry id, message id, payload JSON, attempt, registered_delivery, expireAt };
--      entries that must not be sent (cancelled, final, expired, gone) are acked here.
local UP, N = ARGV[4], tonumber(ARGV[5])
local out = {}
local acks = {}
for i = 0, N - 1 do
  local o = 5 + i * 3
  local eid, id, redelivered = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'exp', 'j', 'att', 'rd')
  local st = v[1]
  if st == 'queued' or (st == 'sending' and redelivered == '1') then
    local exp = tonumber(v[2]) or 0
    if exp > 0 and NOW >= exp then
      finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
      acks[#acks + 1] = eid
    else
      local att = (tonumber(v[4]) or 0) + 1
      redis.call('HSET', k, 'st', 'sending', 'att', att)
      out[#out + 1] = { eid, id, v[3], att, v[5] or '0', v[2] or '0' }
    end
  else
    acks[#acks + 1] = eid
  end
end
ack_queue(UP, acks)
flush_events()
return out
