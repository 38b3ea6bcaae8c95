-- webhook_enqueue: append an event (a read receipt…) to a message's ordered webhook list. The
-- final-state event is appended by finalize() in common.lua the same way.
-- in:  ARGV[4] message id, [5] kind (read, mo), [6] delivery id, [7] event time ms, [8] channel ('' = the message's),
--      [9] more record fields as a JSON object ('' none), [10] URL when the message has none ('' none: an MO's is the account's)
-- out: 1 queued, 0 the message has no webhook URL, -1 unknown message (or its hot state has expired)
local ID, KIND, DID, T, CH = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
local k = mkey(ID)
local v = redis.call('HMGET', k, 'st', 'k', 'j')
if not v[1] then return -1 end
local acct, _, _, _, _, _, _, _, _, _, _, url = core(k, v[2])
if not present(url) and ARGV[10] and ARGV[10] ~= '' then url = ARGV[10] end
if not present(url) then return 0 end
local m = message_fields(v[3])
if CH == '' then CH = m.channel or 'sms' end
local q = P .. 'whq:' .. ID
-- Only the head of the list is ever in flight: a ticket is written when the list was empty, and
-- webhook_settle writes the next one when the head is delivered or dead-lettered. The webhook
-- shape (fmt) and the client's references (ref) travel with each event, as in finalize().
local rec = { d = DID, k = KIND, a = acct, u = url, t = T, ch = CH, oid = m.orchestrationId, fmt = m.webhookFormat, ref = m.clientRef }
if ARGV[9] and ARGV[9] ~= '' then
  local ok, more = pcall(cjson.decode, ARGV[9])
  if ok and type(more) == 'table' then
    for f, x in pairs(more) do if rec[f] == nil then rec[f] = x end end
  end
end
if redis.call('RPUSH', q, cjson.encode(rec)) == 1 then
  redis.call('XADD', P .. 'wh', '*', 'i', ID)
end
redis.call('INCR', P .. 'whn')
return 1
