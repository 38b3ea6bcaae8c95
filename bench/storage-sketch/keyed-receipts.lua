-- storage sketch, a key per message with three fields: final receipts. ARGV as batch-receipts.lua's.
local N = tonumber(ARGV[4])
local names = {}
for i = 0, N - 1 do names[#names + 1] = ARGV[4 + i * 3 + 1] end
local refs = {}
for c = 1, #names, 1000 do
  local got = redis.call('HMGET', umap('u'), unpack(names, c, math.min(c + 999, #names)))
  for x = 1, #got do refs[c + x - 1] = got[x] end
end
local buf = buffer_of(DLRBUF, DLRKEYS, P .. 'd:a')
local fin = {}
for i = 1, N do
  local r = refs[i]
  if r then
    local bid, id = string.match(r, '^([^|]*)|([^|]*)|')
    local o = 4 + (i - 1) * 3
    local stat, derr = ARGV[o + 2], ARGV[o + 3]
    local k = P .. 'm:' .. id
    local got = redis.call('HMGET', k, 's', 'e')
    local st, t0, acct, pr, rd, ra, rest = string.match(got[1] or '', '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)(.*)$')
    if st and not FINAL[st] then
      local status = stat == 'DELIVRD' and 'delivered' or 'failed'
      add_event(got[2], event_suffix(id .. ':3', status, '', ''))
      RESBUF[acct] = (RESBUF[acct] or 0) + tonumber(pr)
      redis.call('HSET', k, 's', status .. '\31' .. t0 .. '\31' .. acct .. '\31' .. pr .. '\31' .. rd .. rest .. '\31' .. NOW_S .. '\31' .. stat .. '\31' .. derr, 'e', '')
      if rd == '1' then
        local n = #buf
        buf[n + 1], buf[n + 2], buf[n + 3], buf[n + 4], buf[n + 5] = '\n', id, '\t', stat, '\t'
        buf[n + 6], buf[n + 7], buf[n + 8], buf[n + 9], buf[n + 10] = derr, '\t', t0, '\t', ra
      end
      fin[#fin + 1] = id
    end
  end
end
if #fin > 0 then push_chunks(P .. 'finb', fin, 250, '') end
flush_events()
return N
