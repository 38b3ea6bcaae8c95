-- storage sketch, records per admission batch: final receipts (see batch-admit.lua). The mapping
-- hash as receipts.lua's; per batch one HMGET of the states and event bases and one HSET of the final
-- states (the event base emptied); the event rows, reserve and receipts owed as finalize()'s.
-- in:  ARGV[4] count, then per receipt (stride 3): upstream message id, stat, err
local N = tonumber(ARGV[4])
local names = {}
for i = 0, N - 1 do names[#names + 1] = ARGV[4 + i * 3 + 1] end
local refs = {}
for c = 1, #names, 1000 do
  local got = redis.call('HMGET', umap('u'), unpack(names, c, math.min(c + 999, #names)))
  for x = 1, #got do refs[c + x - 1] = got[x] end
end
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
    local s, eb = got[2 * x - 1], got[2 * x]
    -- state: st, t0, account, price, rd, ra, [ts, umid]
    local st, t0, acct, pr, rd, ra, rest = string.match(s or '', '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)(.*)$')
    if st and not FINAL[st] then
      local status = stat == 'DELIVRD' and 'delivered' or 'failed'
      add_event(eb, event_suffix(id .. ':3', status, '', ''))
      RESBUF[acct] = (RESBUF[acct] or 0) + tonumber(pr)
      w[#w + 1] = 's' .. id
      w[#w + 1] = status .. '\31' .. t0 .. '\31' .. acct .. '\31' .. pr .. '\31' .. rd .. rest .. '\31' .. NOW_S .. '\31' .. stat .. '\31' .. derr
      w[#w + 1] = 'e' .. id
      w[#w + 1] = ''
      if rd == '1' then
        local n = #buf
        buf[n + 1], buf[n + 2], buf[n + 3], buf[n + 4], buf[n + 5] = '\n', id, '\t', stat, '\t'
        buf[n + 6], buf[n + 7], buf[n + 8], buf[n + 9], buf[n + 10] = derr, '\t', t0, '\t', ra
      end
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
