-- campaign_done: settle a lease once (its recipients were admitted, failed, skipped or deferred).
-- in:  ARGV[4] campaign ref, [5] lease, [6] recipients in the lease, [7] admitted (messages sent),
--      [8] failed, [9] skipped, [10] D deferred, [11] E errors, [12] most errors kept,
--      then D pairs (index, due ms), then E error records (JSON)
-- out: 1 settled now, 0 the lease was settled already (by whoever held it when it expired)
local REF, LEASE = ARGV[4], ARGV[5]
local K = P .. 'cp:' .. REF
if redis.call('ZREM', P .. 'cpl:' .. REF, LEASE) == 0 then return 0 end
local N, SENT, FAILED, SKIPPED = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local ND, NE, KEEP = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
redis.call('HINCRBY', K, 'lsd', -N)
if SENT > 0 then redis.call('HINCRBY', K, 'sent', SENT) end
if FAILED > 0 then redis.call('HINCRBY', K, 'fail', FAILED) end
if SKIPPED > 0 then redis.call('HINCRBY', K, 'skip', SKIPPED) end
local o = 12
for i = 1, ND do
  redis.call('ZADD', P .. 'cpd:' .. REF, ARGV[o + 2], ARGV[o + 1])
  o = o + 2
end
if NE > 0 then
  local E = P .. 'cpe:' .. REF
  for i = 1, NE do redis.call('RPUSH', E, ARGV[o + i]) end
  redis.call('LTRIM', E, 0, KEEP - 1)
end
return 1
