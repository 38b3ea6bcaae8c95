-- receipts: final receipts from an upstream (deliver_sm with esm_class receipt, or data_sm).
-- in:  ARGV[4] upstream, [5] count, then per receipt (stride 4): upstream message id, stat, 3-digit err,
--      the network the receipt names (MCC and MNC; '' none)
-- out: per receipt the final status it gave its message, 1 applied (more parts to come, or a
--      duplicate), 0 held as early (its submit_sm_resp has not been seen yet)
local UP, N = ARGV[4], tonumber(ARGV[5])
local out = {}
-- This hour's bucket of receipts held early (common.lua early_bucket), once something is held.
local held

-- Every receipt's mapping (common.lua umap) with one HMGET, in chunks: unpack() of more than a few
-- thousand values overflows Lua's C stack.
local refs = {}
for c = 0, N - 1, 1000 do
  local last = math.min(c + 999, N - 1)
  local names = {}
  for i = c, last do names[#names + 1] = ARGV[5 + i * 4 + 1] end
  local got = redis.call('HMGET', umap(UP), unpack(names))
  for x = 1, #names do refs[c + x] = got[x] end
end

for i = 0, N - 1 do
  local o = 5 + i * 4
  local umid, stat, derr, net = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local ref = refs[i + 1]
  -- A mapping written as a key (the RCS fallback's, or before the hash): kept from its receipt on
  -- as long as the message's final state (FINAL_RET; read receipts and duplicates find the message
  -- that long), in the same call as the read. The hash's mapping leaves with the message's hash.
  if not ref then ref = redis.call('GETEX', P .. 'u:' .. UP .. ':' .. umid, 'EX', FINAL_RET_S) end
  if ref then
    -- 'id|part|parts' ('id|part' written before the parts count was added)
    local id, part, np = string.match(ref, '^([^|]*)|(%d+)|?(%d*)$')
    note_network(id, net, np)
    out[i + 1] = apply_receipt(id, part, stat, derr, np) or 1
  else
    -- SMPP gives no order between a submit_sm_resp and the receipt for it: hold the receipt
    -- until submitted.lua maps the id.
    held = held or early_bucket(UP, math.floor(NOW / 3600000))
    redis.call('HSET', held, umid, stat .. '|' .. derr .. '|' .. net)
    out[i + 1] = 0
  end
end
if held then redis.call('EXPIRE', held, EARLY_BUCKET_TTL) end
flush_events()
return out
