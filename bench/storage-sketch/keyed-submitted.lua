-- storage sketch, a key per message with three fields: the upstream took the messages. ARGV as batch-submitted.lua's.
local N = tonumber(ARGV[4])
local mapped = {}
for i = 0, N - 1 do
  local o = 4 + i * 3
  local id, bid, umid = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local k = P .. 'm:' .. id
  local got = redis.call('HMGET', k, 's', 'e')
  local st, rest = string.match(got[1] or '', '^([^\31]*)(.*)$')
  if st == 'sending' or st == 'queued' then
    add_event(got[2], event_suffix(id, '2', 'submitted', '', umid))
    redis.call('HSET', k, 's', 'submitted' .. rest .. '\31' .. NOW_S .. '\31' .. umid)
    mapped[#mapped + 1], mapped[#mapped + 2] = umid, bid .. '|' .. id .. '|1|1'
  end
end
for c = 1, #mapped, 1000 do redis.call('HSET', umap('u'), unpack(mapped, c, math.min(c + 999, #mapped))) end
flush_events()
return N
