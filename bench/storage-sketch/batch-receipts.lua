-- storage sketch, records per admission batch: final receipts (see batch-admit.lua). The mapping
-- hash as receipts.lua's; per batch one HMGET of the states and event bases and one HSET of the final
-- states (the event base emptied); the event rows, reserve and receipts owed as finalize()'s.
-- in:  ARGV[4] count, then per receipt (stride 3): upstream message id, stat, err
local N = tonumber(ARGV[4])
local refs = sketch_refs(N)
local byb, order = {}, {}
for i = 1, N do
  local r = refs[i]
  if r then
    local bid, id = string.match(r, '^([^|]*)|([^|]*)|')
    local b = buffer_of(byb, order, bid)
    b[#b + 1] = { i, id }
  end
end
local dk = P .. 'd:a'
local buf = buffer_of(DLRBUF, DLRKEYS, dk)
local fin = {}
for _, bid in ipairs(order) do
  local bk = P .. 'B:' .. bid
  local list = byb[bid]
  local q = {}
  for _, e in ipairs(list) do q[#q + 1] = 's' .. e[2]; q[#q + 1] = 'e' .. e[2] end
  local got = redis.call('HMGET', bk, unpack(q))
  local w = {}
  for x, e in ipairs(list) do
    local i, id = e[1], e[2]
    local o = 4 + (i - 1) * 3
    local stat, derr = ARGV[o + 2], ARGV[o + 3]
    local final = sketch_final(id, got[2 * x - 1], got[2 * x], stat, derr, buf)
    if final then
      w[#w + 1] = 's' .. id
      w[#w + 1] = final
      w[#w + 1] = 'e' .. id
      w[#w + 1] = ''
      fin[#fin + 1] = bid
    end
  end
  for c = 1, #w, 1000 do redis.call('HSET', bk, unpack(w, c, math.min(c + 999, #w))) end
end
-- the batches whose messages went final, for the deletion at the retention's end (one entry a batch here)
if #fin > 0 then
  local seen, uniq = {}, {}
  for _, b in ipairs(fin) do if not seen[b] then seen[b] = true; uniq[#uniq + 1] = b end end
  push_chunks(P .. 'finb', uniq, 250, '')
end
flush_events()
return N
