-- receipts: final receipts from an upstream (deliver_sm with esm_class receipt, or data_sm).
-- in:  ARGV[4] upstream, [5] count, then per receipt (stride 4): upstream message id, stat, 3-digit err,
--      the network the receipt names (MCC and MNC; '' none)
-- out: per receipt the final status it gave its message, 1 applied (more parts to come, or a
--      duplicate), 0 held as early (its submit_sm_resp has not been seen yet)
local UP, N = ARGV[4], tonumber(ARGV[5])
local out = {}

for i = 0, N - 1 do
  local o = 5 + i * 4
  local umid, stat, derr, net = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local ref = redis.call('GET', P .. 'u:' .. UP .. ':' .. umid)
  if ref then
    -- 'id|part|parts' ('id|part' written before the parts count was added)
    local id, part, np = string.match(ref, '^([^|]*)|(%d+)|?(%d*)$')
    note_network(id, net, np)
    out[i + 1] = apply_receipt(id, part, stat, derr, np) or 1
  else
    -- SMPP gives no order between a submit_sm_resp and the receipt for it: hold the receipt
    -- until submitted.lua maps the id.
    redis.call('SET', P .. 'early:' .. UP .. ':' .. umid, stat .. '|' .. derr .. '|' .. net, 'EX', 3600)
    -- How many may be held (submitted.lua looks for them only while this exists): it outlives
    -- every held receipt, since each one sets it to expire after itself.
    redis.call('INCR', P .. 'early:' .. UP)
    redis.call('EXPIRE', P .. 'early:' .. UP, 3600)
    out[i + 1] = 0
  end
end
flush_events()
return out
