-- storage sketch, records per admission batch: admission (bench/storage-sketch.ts; common.lua is prepended).
-- One hash per batch, {p}B:<batch id>, three fields a message: <id> the payload JSON, e<id> the
-- event base, s<id> the state (status, admitted at, then the fields joined by \31: account, price,
-- registered_delivery, receipt addressing; later the upstream's answer and the outcome appended).
-- {p}mb maps a message id to its batch. The hand-off as admit.lua's: one queue entry read for the consumer.
-- in:  ARGV[4] consumer, [5] batch id, [6] count, then per message (stride 4): id, payload JSON,
--      event base, the state's fields after the status and time, joined by \31
local CONSUMER, BID, N = ARGV[4], ARGV[5], tonumber(ARGV[6])
local bk = P .. 'B:' .. BID
local f, idx, ids = {}, {}, {}
for i = 0, N - 1 do
  local o = 6 + i * 4
  local id, j, eb, hot = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local n = #f
  f[n + 1], f[n + 2], f[n + 3], f[n + 4], f[n + 5], f[n + 6] = id, j, 'e' .. id, eb, 's' .. id, 'sending\31' .. NOW_S .. '\31' .. hot
  idx[#idx + 1] = id; idx[#idx + 1] = BID
  ids[#ids + 1] = id
  add_event(eb, event_suffix(id, '1', 'queued', '', ''))
end
for c = 1, #f, 1002 do redis.call('HSET', bk, unpack(f, c, math.min(c + 1001, #f))) end
for c = 1, #idx, 1000 do redis.call('HSET', P .. 'mb', unpack(idx, c, math.min(c + 999, #idx))) end
local out = sketch_hand_off(CONSUMER, ids)
flush_events()
return out
