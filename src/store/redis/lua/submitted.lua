-- submitted: the upstream accepted every part of these messages (submit_sm_resp ESME_ROK).
-- in:  ARGV[3] upstream, [4] retention seconds, [5] count, then per message (stride 3):
--      stream entry id, message id, upstream message ids joined by ',' (one per part, in order)
-- out: number of early receipts applied (receipts that had arrived before their response)
local UP, RET, N = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local acks = {}
local applied = 0

for i = 0, N - 1 do
  local o = 5 + i * 3
  local eid, id, umids = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local k = mkey(id)
  local st = redis.call('HGET', k, 'st')
  if st then
    local parts = {}
    for u in string.gmatch(umids, '[^,]+') do parts[#parts + 1] = u end
    if st == 'sending' or st == 'queued' then
      redis.call('HSET', k, 'st', 'submitted', 'ts', NOW, 'umid', umids, 'np', #parts)
      event(id, 'submitted', '', umids)
    end
    for n, u in ipairs(parts) do
      redis.call('SET', P .. 'u:' .. UP .. ':' .. u, id .. '|' .. n, 'EX', RET)
      local ek = P .. 'early:' .. UP .. ':' .. u
      local early = redis.call('GET', ek)
      if early then
        redis.call('DEL', ek)
        local stat, derr = string.match(early, '^([^|]*)|([^|]*)')
        apply_receipt(id, n, stat, derr)
        applied = applied + 1
      end
    end
  end
  acks[#acks + 1] = eid
end
ack_queue(UP, acks)
flush_events()
return applied
