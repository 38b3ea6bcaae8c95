-- submitted: the upstream accepted every part of these messages (submit_sm_resp ESME_ROK).
-- in:  ARGV[4] upstream, [5] retention seconds, [6] count, then per message (stride 2):
--      message id, upstream message ids joined by ',' (one per part, in order)
-- out: number of early receipts applied (receipts that had arrived before their response)
local UP, RET, N = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local applied = 0
-- Receipts held one key each (early:<up>:<id>, counted by early:<up>) before the hourly buckets
-- below: looked for part by part while that count lives (an hour after the last such hold).
local OLD_EARLY = redis.call('EXISTS', P .. 'early:' .. UP) == 1
-- Every part mapped by this run, { id, part, parts, upstream id }, for the held receipts below.
local mapped = {}

local function apply_held(m, held)
  local stat, derr, net = string.match(held, '^([^|]*)|([^|]*)|?([^|]*)')
  note_network(m[1], net, m[3])
  apply_receipt(m[1], m[2], stat, derr, tostring(m[3]))
  applied = applied + 1
end

for i = 0, N - 1 do
  local o = 6 + i * 2
  local id, umids = ARGV[o + 1], ARGV[o + 2]
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'exp', 'eb', 'seq')
  local st = v[1]
  -- A receipt can come until the validity ends, and a little after: keep the id mapping that long.
  local ttl = math.floor(math.max((tonumber(v[2]) or 0) - NOW, 0) / 1000) + 86400
  if ttl > RET then ttl = RET end
  if st then
    local parts = {}
    for u in string.gmatch(umids, '[^,]+') do parts[#parts + 1] = u end
    if st == 'sending' or st == 'queued' then
      local seq = v[4] or 0
      if v[3] then seq = event_row(id, v[3], seq, 'submitted', '', umids) end
      redis.call('HSET', k, 'st', 'submitted', 'ts', NOW, 'umid', umids, 'np', #parts, 'seq', seq)
    end
    for n, u in ipairs(parts) do
      redis.call('SET', P .. 'u:' .. UP .. ':' .. u, id .. '|' .. n .. '|' .. #parts, 'EX', ttl)
      local m = { id, n, #parts, u }
      local ek = OLD_EARLY and (P .. 'early:' .. UP .. ':' .. u)
      local early = ek and redis.call('GET', ek)
      if early then
        redis.call('DEL', ek)
        apply_held(m, early)
      else
        mapped[#mapped + 1] = m
      end
    end
  end
end

-- Receipts that came before this response are held in an hourly hash per upstream
-- (receipts.lua): one HMGET per bucket for the whole run, this hour's and the last, not a GET
-- per part (which every message paid while any receipt was held, i.e. always under load).
local hour = math.floor(NOW / 3600000)
for _, h in ipairs({ hour, hour - 1 }) do
  if #mapped == 0 then break end
  local bk = early_bucket(UP, h)
  local rest, found = {}, {}
  -- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
  for c = 1, #mapped, 1000 do
    local last = math.min(c + 999, #mapped)
    local names = {}
    for j = c, last do names[#names + 1] = mapped[j][4] end
    local held = redis.call('HMGET', bk, unpack(names))
    for j = c, last do
      local e = held[j - c + 1]
      if e then
        found[#found + 1] = mapped[j][4]
        apply_held(mapped[j], e)
      else
        rest[#rest + 1] = mapped[j]
      end
    end
  end
  for c = 1, #found, 1000 do
    redis.call('HDEL', bk, unpack(found, c, math.min(c + 999, #found)))
  end
  mapped = rest
end
flush_events()
return applied
