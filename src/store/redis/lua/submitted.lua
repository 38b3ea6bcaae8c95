-- submitted: the upstream accepted every part of these messages (submit_sm_resp ESME_ROK).
-- in:  ARGV[4] upstream, [5] count, then per message (stride 2):
--      message id, upstream message ids joined by ',' (one per part, in order);
--      then the send-queue entries to ack once these are recorded: their count, and per entry
--      (stride 3) as queue_ack.lua takes them (common.lua ack_entries). In the same run, a
--      dispatcher whose outcomes complete entries saves queue_ack.lua's call (~50 us of Redis CPU
--      a call, docs/scaling.md); the ack is written with the outcomes or not at all.
-- out: number of early receipts applied (receipts that had arrived before their response)
local UP, N = ARGV[4], tonumber(ARGV[5])
local applied = 0
-- Receipts held one key each (early:<up>:<id>, counted by early:<up>) before the hourly buckets
-- below: looked for part by part while that count lives (an hour after the last such hold).
local OLD_EARLY = redis.call('EXISTS', P .. 'early:' .. UP) == 1
-- Every part mapped by this run, for the held receipts below (parallel lists: no table a part).
local m_id, m_part, m_np, m_umid = {}, {}, {}, {}

local function apply_held(j, held)
  local stat, derr, net = string.match(held, '^([^|]*)|([^|]*)|?([^|]*)')
  note_network(m_id[j], net, m_np[j])
  apply_receipt(m_id[j], m_part[j], stat, derr, tostring(m_np[j]))
  applied = applied + 1
end

-- The run's mappings (common.lua umap): upstream id, "id|part|parts", ... for one HSET.
local mapped = {}

for i = 0, N - 1 do
  local o = 5 + i * 2
  local id, umids = ARGV[o + 1], ARGV[o + 2]
  -- The dispatcher's take wrote the hash of a message that waited before its send; hash_of
  -- (common.lua) writes it here only for one that never went through a take.
  local v, k = hash_of(id, 'st', 'eb', 'seq')
  local st = v[1]
  -- Only the response that moves the message to submitted maps its ids: the mapping leaves with
  -- the hash (finalize() lists the ids of field sb), so a mapping written for a message already
  -- submitted (a second send after a redelivery) would outlive it. That send's receipt finds no
  -- message and is held as early until its bucket expires; the message has its own outcome.
  if st == 'sending' or st == 'queued' then
    local parts = {}
    for u in string.gmatch(umids, '[^,]+') do parts[#parts + 1] = u end
    local seq = v[3] or '0'
    if v[2] then seq = event_row(id, v[2], seq, 'submitted', '', umids) end
    redis.call('HSET', k, 'st', 'submitted', 'sb', sent_of(umids, num(#parts)), 'seq', seq)
    for n, u in ipairs(parts) do
      mapped[#mapped + 1], mapped[#mapped + 2] = u, id .. '|' .. num(n) .. '|' .. num(#parts)
      local j = #m_id + 1
      m_id[j], m_part[j], m_np[j], m_umid[j] = id, n, #parts, u
      local ek = OLD_EARLY and (P .. 'early:' .. UP .. ':' .. u)
      local early = ek and redis.call('GET', ek)
      if early then
        redis.call('DEL', ek)
        apply_held(j, early)
        m_umid[j] = false
      end
    end
  end
end
-- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
for c = 1, #mapped, 1000 do
  redis.call('HSET', umap(UP), unpack(mapped, c, math.min(c + 999, #mapped)))
end

-- Receipts that came before this response are held in an hourly hash per upstream
-- (receipts.lua): looked for with one HMGET per bucket for the whole run, this hour's and the
-- last, not a GET per part (which every message paid while any receipt was held, i.e. always
-- under load); not at all while neither bucket exists.
local hour = math.floor(NOW / 3600000)
local buckets = { early_bucket(UP, hour), early_bucket(UP, hour - 1) }
if #m_id > 0 and redis.call('EXISTS', buckets[1], buckets[2]) > 0 then
  for _, bk in ipairs(buckets) do
    local found = {}
    -- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
    for c = 1, #m_id, 1000 do
      local last = math.min(c + 999, #m_id)
      local names, at = {}, {}
      for j = c, last do
        if m_umid[j] then names[#names + 1] = m_umid[j]; at[#at + 1] = j end
      end
      if #names > 0 then
        local held = redis.call('HMGET', bk, unpack(names))
        for x = 1, #names do
          local e = held[x]
          if e then
            found[#found + 1] = names[x]
            apply_held(at[x], e)
            -- Found once: not looked for in the other bucket.
            m_umid[at[x]] = false
          end
        end
      end
    end
    for c = 1, #found, 1000 do
      redis.call('HDEL', bk, unpack(found, c, math.min(c + 999, #found)))
    end
  end
end
local AO = 5 + N * 2
local NA = tonumber(ARGV[AO + 1] or '0')
if NA > 0 then ack_entries(UP, AO + 2, NA) end
flush_events()
return applied
