-- storage sketch, a key per message with three fields: final receipts. ARGV as batch-receipts.lua's.
local N = tonumber(ARGV[4])
local refs = sketch_refs(N)
local buf = buffer_of(DLRBUF, DLRKEYS, P .. 'd:a')
local fin = {}
for i = 1, N do
  local r = refs[i]
  if r then
    local id = string.match(r, '^[^|]*|([^|]*)|')
    local o = 4 + (i - 1) * 3
    local stat, derr = ARGV[o + 2], ARGV[o + 3]
    local k = P .. 'm:' .. id
    local got = redis.call('HMGET', k, 's', 'e')
    local final = sketch_final(id, got[1], got[2], stat, derr, buf)
    if final then
      redis.call('HSET', k, 's', final, 'e', '')
      fin[#fin + 1] = id
    end
  end
end
if #fin > 0 then push_chunks(P .. 'finb', fin, 250, '') end
flush_events()
return N
