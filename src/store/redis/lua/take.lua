-- take: a dispatcher claims messages of its queue entries for sending.
-- in:  ARGV[4] upstream, [5] count, then per message (stride 2): message id, redelivered (1 when
--      its entry was claimed from a dead consumer's pending list)
-- out: per message to send: { message id, payload (stored-message.ts), attempt,
--      registered_delivery, expireAt };
--      messages that must not be sent (cancelled, final, expired, gone) are left out, and the
--      dispatcher counts them settled (it acks the entries, queue_ack.lua).
local N = tonumber(ARGV[5])
local out = {}
-- The waiting messages whose hashes this run writes: their records dropped with one HDEL.
local dropped = {}
for i = 0, N - 1 do
  local o = 5 + i * 2
  local id, redelivered = ARGV[o + 1], ARGV[o + 2]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'k', 'j', 'att')
  local st, packed, j = v[1], v[2], v[3]
  -- A message admitted to wait has no hash until now: its record's parts, written below as its
  -- hash (common.lua waiting_parts, write_waiting).
  local waited, xg, ra, eb = false, nil, nil, nil
  if not st then
    packed, xg, j, ra, eb = waiting_parts(id)
    if packed then st, waited = 'queued', true end
  end
  if st == 'queued' or (st == 'sending' and redelivered == '1') then
    local _, _, _, exp, _, _, _, rd = core(k, packed)
    local exp_ms = tonumber(exp) or 0
    if exp_ms > 0 and NOW >= exp_ms then
      if waited then write_waiting(id, 'queued', nil, packed, xg, j, ra, eb, dropped) end
      finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
    else
      local att = num((tonumber(v[4]) or 0) + 1)
      if waited then
        write_waiting(id, 'sending', att, packed, xg, j, ra, eb, dropped)
      else
        redis.call('HSET', k, 'st', 'sending', 'att', att)
      end
      out[#out + 1] = { id, j, tonumber(att), present(rd) and rd or '0', present(exp) and exp or '0' }
    end
  end
end
-- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
for c = 1, #dropped, 1000 do
  redis.call('HDEL', waiting_key(), unpack(dropped, c, math.min(c + 999, #dropped)))
end
flush_events()
return out
