-- assemble: one part of a concatenated message from an ESME. Parts are kept in Redis (so a part
-- acknowledged before the last one arrives survives a restart) until every part is in.
-- in:  ARGV[3] assembly key, [4] part number (1-based), [5] payload (base64), [6] total parts,
--      [7] ttl seconds, [8] candidate message id, [9] registered_delivery of this part
-- out: { message id } while parts are missing; { message id, registered_delivery (max over parts),
--      payload 1, payload 2, … } when complete (and the assembly is removed)
local K, SEQ, TOTAL = ARGV[3], ARGV[4], tonumber(ARGV[6])
redis.call('HSETNX', K, 'id', ARGV[8])
redis.call('HSET', K, 'p' .. SEQ, ARGV[5])
local rd = tonumber(redis.call('HGET', K, 'rd') or '0')
if tonumber(ARGV[9]) > rd then
  rd = tonumber(ARGV[9])
  redis.call('HSET', K, 'rd', rd)
end
redis.call('EXPIRE', K, tonumber(ARGV[7]))
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
