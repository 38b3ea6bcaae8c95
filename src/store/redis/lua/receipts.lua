-- receipts: final receipts from an upstream (deliver_sm with esm_class receipt, or data_sm).
-- in:  ARGV[4] upstream, [5] count, then per receipt (stride 4): upstream message id, stat, 3-digit err,
--      the network the receipt names (MCC and MNC; '' none)
-- out: per receipt the final status it gave its message, 1 applied (more parts to come, or a
--      duplicate), 0 held as early (its submit_sm_resp has not been seen yet)
local UP, N = ARGV[4], tonumber(ARGV[5])
local out = {}
-- This hour's bucket of receipts held early (common.lua early_bucket), once something is held.
local held

for i = 0, N - 1 do
  local o = 5 + i * 4
  local umid, stat, derr, net = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  -- The part's receipt is in: its mapping is kept from now on as long as the message's final state
  -- (FINAL_RET; read receipts and duplicates find the message that long), not until its validity
  -- ended and a day more, whatever router.finalRetentionSeconds said. In the same call as the read.
  local ref = redis.call('GETEX', P .. 'u:' .. UP .. ':' .. umid, 'EX', FINAL_RET_S)
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
