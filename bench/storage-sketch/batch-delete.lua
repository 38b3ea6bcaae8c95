-- storage sketch, records per admission batch: the end of retention, one DEL a batch.
-- in:  ARGV[4] batches B, then B batch ids, then M and M message ids (out of {p}mb), then K and K upstream ids (out of the mapping hash)
local B = tonumber(ARGV[4])
for i = 1, B do redis.call('DEL', P .. 'B:' .. ARGV[4 + i]) end
local o = 4 + B
local M = tonumber(ARGV[o + 1])
for c = 1, M, 1000 do redis.call('HDEL', P .. 'mb', unpack(ARGV, o + 1 + c, o + 1 + math.min(c + 999, M))) end
o = o + 1 + M
local K = tonumber(ARGV[o + 1])
for c = 1, K, 1000 do redis.call('HDEL', umap('u'), unpack(ARGV, o + 1 + c, o + 1 + math.min(c + 999, K))) end
return B
