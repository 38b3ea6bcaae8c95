-- storage sketch, a key per message as now, with three fields (see batch-admit.lua for what each holds):
-- admission. ARGV as batch-admit.lua's (the batch id only travels on, in the mapping).
local CONSUMER, BID, N = ARGV[4], ARGV[5], tonumber(ARGV[6])
local ids = {}
for i = 0, N - 1 do
  local o = 6 + i * 4
  local id, j, eb, hot = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  redis.call('HSET', P .. 'm:' .. id, 'j', j, 'e', eb, 's', 'sending\31' .. NOW_S .. '\31' .. hot)
  ids[#ids + 1] = id
  add_event(eb, event_suffix(id, '1', 'queued', '', ''))
end
local out = sketch_hand_off(CONSUMER, ids)
flush_events()
return out
