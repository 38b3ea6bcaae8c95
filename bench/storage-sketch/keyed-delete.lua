-- storage sketch, a key per message with three fields: the end of retention, the keys deleted 1,000 a call.
-- ARGV as batch-delete.lua's (the batch ids are not used).
local B = tonumber(ARGV[4])
local o = 4 + B
local M = tonumber(ARGV[o + 1])
for c = 1, M, 1000 do
  local keys = {}
  for x = c, math.min(c + 999, M) do keys[#keys + 1] = P .. 'm:' .. ARGV[o + 1 + x] end
  redis.call('DEL', unpack(keys))
end
o = o + 1 + M
local K = tonumber(ARGV[o + 1])
for c = 1, K, 1000 do redis.call('HDEL', umap('u'), unpack(ARGV, o + 1 + c, o + 1 + math.min(c + 999, K))) end
return B
