-- timers: the one scheduler (router/scheduler.ts). {p}timers is a sorted set of members scored
-- by the epoch ms they are due. This script reads the due members and removes each one before
-- acting on it, all inside one script run: Redis runs one script at a time, so however many
-- processes run the timer loop, a member fires once; and a member stays in the set (AOF) until it
-- has fired, so a restart loses none. Members are "<kind>|<id>":
--   "s|id"  scheduled send (HTTP scheduledAt, SMPP schedule_delivery_time, replace_sm, a paced
--           batch): into its upstream's queue
--   "r|id"  retry after a transient failure (retry.lua): into its upstream's queue again
--   "x|id"  validity end / TTL: a message not final yet becomes EXPIRED ("X|gid" the same for the
--           messages of one admission batch's validity group still in it, see admit.lua)
--   "w|id"  webhook retry: the head of the message's webhook list is due again (a ticket in {p}wh)
--   "o|chain|token"  an orchestration chain's timer: a notice on {p}orn (router/orchestrator.ts)
--   "c|ref"  start of a scheduled campaign (router/campaigns.ts; campaign_control.lua sets it)
--   "F|minute"  the final retention of the messages listed in {p}fin:<minute> ended: their hashes
--           are deleted, and their upstream ids listed in {p}fu:<minute> leave the mapping hashes
--           (common.lua flush_final), each key and each id counting one toward the limit
--   "t|topic|id"  another part's item (Scheduler.schedule): appended to the stream {p}due:<topic>
--           as i=<id>, which the part reads through the consumer group "due"
-- To add a kind: pick an unused letter, write "<letter>|<id>" with ZADD from the script (or the
-- Scheduler) that decides the delay, and add one `elseif kind == '<letter>'` branch below that does
-- the work in Redis (no I/O here); a part that needs Node to act uses a "t|" topic instead.
-- in:  ARGV[4] limit
-- out: number of timers handled, where each message of an "X|" group counts as one (the caller
--      runs again at once when it reaches the limit); a group cut short goes back, due now
local LIMIT = tonumber(ARGV[4])
local T = P .. 'timers'
-- A message taken by a dispatcher right now is left to it: take.lua expires it, and a submitted
-- message gets the upstream's own receipt or this one (looked at again in 30 s).
-- gid: the validity group the timer belongs to (a message that left it has a timer of its own).
local function expire_at_validity(id, gid)
  local v = hash_of(id, 'st', 'xg')
  local st = v[1]
  if gid and v[2] ~= gid then return end
  if gid and st == 'sending' then
    redis.call('HDEL', mkey(id), 'xg')
    leave_validity_group(gid)
  end
  if st and not FINAL[st] and st ~= 'sending' then
    finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
  elseif st == 'sending' then
    redis.call('ZADD', T, NOW + 30000, 'x|' .. id)
  end
end

local due = redis.call('ZRANGEBYSCORE', T, '-inf', NOW, 'LIMIT', 0, LIMIT)
local handled = 0
for _, member in ipairs(due) do
  if handled >= LIMIT then break end
  redis.call('ZREM', T, member)
  local kind, id = string.match(member, '^(%a)|([^|]+)')
  -- (for X, id is the validity group's id, and each of its messages counts as one)
  if kind ~= 'X' and kind ~= 'F' then handled = handled + 1 end
  if kind == 's' or kind == 'r' then
    local k = mkey(id)
    local v = redis.call('HMGET', k, 'st', 'k')
    if v[1] == 'scheduled' or v[1] == 'queued' then
      if v[1] == 'scheduled' then
        redis.call('HSET', k, 'st', 'queued')
        event(id, 'queued', '', nil)
      end
      enqueue(select(2, core(k, v[2])), id)
    end
  elseif kind == 'x' then
    expire_at_validity(id)
  elseif kind == 'X' then
    local gk = P .. 'xg:' .. id
    local ids = redis.call('HGET', gk, 'i') or ''
    local rest = {}
    for one in string.gmatch(ids, '[^,]+') do
      if handled < LIMIT then
        expire_at_validity(one, id)
        handled = handled + 1
      else
        rest[#rest + 1] = one
      end
    end
    -- Cut short: the rest is due again at once. Done: every member is final or has its own timer.
    if #rest > 0 then
      redis.call('HSET', gk, 'i', table.concat(rest, ','))
      redis.call('ZADD', T, NOW, member)
    else
      redis.call('DEL', gk)
    end
  elseif kind == 'F' then
    local lk = P .. 'fin:' .. id
    while handled < LIMIT do
      local chunk = redis.call('LPOP', lk)
      if not chunk then break end
      local keys = {}
      for one in string.gmatch(chunk, '[^,]+') do keys[#keys + 1] = mkey(one) end
      redis.call('UNLINK', unpack(keys))
      handled = handled + #keys
    end
    -- Their upstream ids' mappings (common.lua forget_mapping), each id counting one.
    local uk = P .. 'fu:' .. id
    while handled < LIMIT do
      local chunk = redis.call('LPOP', uk)
      if not chunk then break end
      local up, list = string.match(chunk, '^([^\n]*)\n(.*)$')
      local ids = {}
      for one in string.gmatch(list or '', '[^,]+') do ids[#ids + 1] = one end
      if #ids > 0 then redis.call('HDEL', umap(up), unpack(ids)) end
      handled = handled + #ids
    end
    -- Cut short by the limit: the rest is due again at once.
    if redis.call('EXISTS', lk, uk) > 0 then redis.call('ZADD', T, NOW, member) end
  elseif kind == 'w' then
    redis.call('XADD', P .. 'wh', '*', 'i', id)
  elseif kind == 't' then
    local topic, item = string.match(member, '^t|([^|]+)|(.+)$')
    if topic then redis.call('XADD', P .. 'due:' .. topic, '*', 'i', item) end
  elseif kind == 'o' then
    -- An orchestration chain's timer ("o|chain|sq" or "o|chain|D"): a notice for the orchestrator
    -- (orch_claim.lua decides what it still means).
    local token = string.match(member, '^o|[^|]+|(.+)$')
    redis.call('XADD', P .. 'orn', '*', 'k', 't', 'c', id, 't', token or '')
  elseif kind == 'c' then
    -- A scheduled campaign starts: running, and back among the campaigns engines poll (campaign_control.lua).
    local ck = P .. 'cp:' .. id
    local c = redis.call('HMGET', ck, 'st', 't0')
    if c[1] == 'scheduled' then
      redis.call('HSET', ck, 'st', 'running')
      redis.call('ZADD', P .. 'cpa', tonumber(c[2]) or NOW, id)
    end
  end
end
flush_events()
return handled
