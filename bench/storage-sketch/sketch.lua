-- What both storage sketches do alike (bench/storage-sketch.ts prepends it, after common.lua): one
-- account 'a' paying 100 micros a message, one upstream 'u'.

-- The batch's messages handed over as admit.lua hands them: its queue entries written and read
-- for the consumer, the balance reserved once. Returns the entry ids.
local function sketch_hand_off(consumer, ids)
  local out = {}
  queue_write('u', ids, function(eid) out[#out + 1] = eid end)
  redis.call('XREADGROUP', 'GROUP', 'dispatch', consumer, 'COUNT', #out, 'STREAMS', P .. 'q:u', '>')
  redis.call('DECRBY', P .. 'bal:a', #ids * 100)
  redis.call('INCRBY', P .. 'res:a', #ids * 100)
  return out
end

-- The mappings of a run's receipts (ARGV from [5], stride 3, the upstream id first), as receipts.lua reads them.
local function sketch_refs(n)
  local names = {}
  for i = 0, n - 1 do names[#names + 1] = ARGV[4 + i * 3 + 1] end
  local refs = {}
  for c = 1, #names, 1000 do
    local got = redis.call('HMGET', umap('u'), unpack(names, c, math.min(c + 999, #names)))
    for x = 1, #got do refs[c + x - 1] = got[x] end
  end
  return refs
end

-- A message's final receipt against its state `s` (status, admitted at, account, price,
-- registered_delivery, receipt addressing, then what submitted appended) and event base `eb`: the
-- event row, the reserve released and the receipt owed (into `owed`, a delivery buffer), as
-- finalize() does them. Returns its final state, or nil when it was final already.
local function sketch_final(id, s, eb, stat, derr, owed)
  local st, t0, acct, pr, rd, ra, rest = string.match(s or '', '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)(.*)$')
  if not st or FINAL[st] then return nil end
  local status = stat == 'DELIVRD' and 'delivered' or 'failed'
  add_event(eb, event_suffix(id, '3', status, '', ''))
  RESBUF[acct] = (RESBUF[acct] or 0) + tonumber(pr)
  if rd == '1' then
    local n = #owed
    owed[n + 1], owed[n + 2], owed[n + 3], owed[n + 4], owed[n + 5] = '\n', id, '\t', stat, '\t'
    owed[n + 6], owed[n + 7], owed[n + 8], owed[n + 9], owed[n + 10] = derr, '\t', t0, '\t', ra
  end
  -- The receipt addressing goes (as finalize() empties ra): the state keeps the rest.
  return status .. '\31' .. t0 .. '\31' .. acct .. '\31' .. pr .. '\31' .. rd .. rest .. '\31' .. NOW_S .. '\31' .. stat .. '\31' .. derr
end
