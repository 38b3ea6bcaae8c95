-- assemble: one part of a concatenated message from an ESME. Parts are kept in Redis (so a part
-- acknowledged before the last one arrives survives a restart) until every part is in.
-- in:  ARGV[4] assembly key, [5] part number (1-based), [6] payload (base64), [7] total parts,
--      [8] ttl seconds, [9] candidate message id, [10] registered_delivery of this part
-- out: { message id } while parts are missing; { message id, registered_delivery (max over parts),
--      payload 1, payload 2, … } when complete (and the assembly is removed)
local K, SEQ, TOTAL = ARGV[4], ARGV[5], tonumber(ARGV[7])
redis.call('HSETNX', K, 'id', ARGV[9])
redis.call('HSET', K, 'p' .. SEQ, ARGV[6])
local rd = tonumber(redis.call('HGET', K, 'rd') or '0')
if tonumber(ARGV[10]) > rd then
  rd = tonumber(ARGV[10])
  redis.call('HSET', K, 'rd', rd)
end
redis.call('EXPIRE', K, tonumber(ARGV[8]))
local id = redis.call('HGET', K, 'id')
local parts = redis.call('HMGET', K, unpack((function()
  local f = {}
  for i = 1, TOTAL do f[i] = 'p' .. i end
  return f
end)()))
for i = 1, TOTAL do
  if not parts[i] then return { id } end
end
redis.call('DEL', K)
return { id, tostring(rd), unpack(parts) }
