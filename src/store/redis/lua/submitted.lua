-- submitted: the upstream accepted every part of these messages (submit_sm_resp ESME_ROK).
-- in:  ARGV[4] upstream, [5] retention seconds, [6] count, then per message (stride 2):
--      message id, upstream message ids joined by ',' (one per part, in order)
-- out: number of early receipts applied (receipts that had arrived before their response)
local UP, RET, N = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local applied = 0
-- Early receipts are looked for only when one may be held (receipts.lua).
local EARLY = redis.call('EXISTS', P .. 'early:' .. UP) == 1

for i = 0, N - 1 do
  local o = 6 + i * 2
  local id, umids = ARGV[o + 1], ARGV[o + 2]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'exp', 'eb', 'seq')
  local st = v[1]
  -- A receipt can come until the validity ends, and a little after: keep the id mapping that long.
  local ttl = math.floor(math.max((tonumber(v[2]) or 0) - NOW, 0) / 1000) + 86400
  if ttl > RET then ttl = RET end
  if st then
    local parts = {}
    for u in string.gmatch(umids, '[^,]+') do parts[#parts + 1] = u end
    if st == 'sending' or st == 'queued' then
      local seq = v[4] or 0
      if v[3] then seq = event_row(id, v[3], seq, 'submitted', '', umids) end
      redis.call('HSET', k, 'st', 'submitted', 'ts', NOW, 'umid', umids, 'np', #parts, 'seq', seq)
    end
    for n, u in ipairs(parts) do
      redis.call('SET', P .. 'u:' .. UP .. ':' .. u, id .. '|' .. n .. '|' .. #parts, 'EX', ttl)
      local ek = P .. 'early:' .. UP .. ':' .. u
      local early = EARLY and redis.call('GET', ek)
      if early then
        redis.call('DEL', ek)
        local stat, derr, net = string.match(early, '^([^|]*)|([^|]*)|?([^|]*)')
        note_network(id, net, #parts)
        apply_receipt(id, n, stat, derr, tostring(#parts))
        applied = applied + 1
      end
    end
  end
end
flush_events()
return applied
