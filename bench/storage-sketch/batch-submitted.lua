-- storage sketch, records per admission batch: the upstream took the messages (see batch-admit.lua).
-- One HMGET and one HSET per batch for the run's messages, the event rows and upstream id mappings as submitted.lua's.
-- in:  ARGV[4] count, then per message (stride 3): id, batch id, upstream message id
local N = tonumber(ARGV[4])
local byb, order = {}, {}
for i = 0, N - 1 do
  local o = 4 + i * 3
  local b = buffer_of(byb, order, ARGV[o + 2])
  b[#b + 1] = i
end
local mapped = {}
for _, bid in ipairs(order) do
  local bk = P .. 'B:' .. bid
  local list = byb[bid]
  local names = {}
  for _, i in ipairs(list) do
    local id = ARGV[4 + i * 3 + 1]
    names[#names + 1] = 's' .. id
    names[#names + 1] = 'e' .. id
  end
  local got = redis.call('HMGET', bk, unpack(names))
  local w = {}
  for x, i in ipairs(list) do
    local o = 4 + i * 3
    local id, umid = ARGV[o + 1], ARGV[o + 3]
    local s, eb = got[2 * x - 1], got[2 * x]
    local st, rest = string.match(s or '', '^([^\31]*)(.*)$')
    if st == 'sending' or st == 'queued' then
      add_event(eb, event_suffix(id, '2', 'submitted', '', umid))
      w[#w + 1] = 's' .. id
      w[#w + 1] = 'submitted' .. rest .. '\31' .. NOW_S .. '\31' .. umid
      mapped[#mapped + 1], mapped[#mapped + 2] = umid, bid .. '|' .. id .. '|1|1'
    end
  end
  for c = 1, #w, 1000 do redis.call('HSET', bk, unpack(w, c, math.min(c + 999, #w))) end
end
for c = 1, #mapped, 1000 do redis.call('HSET', umap('u'), unpack(mapped, c, math.min(c + 999, #mapped))) end
flush_events()
return N
