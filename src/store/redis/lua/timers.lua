-- timers: act on what is due. "s|id" scheduled and "r|id" retry go into their upstream's queue,
-- "x|id" validity end expires a message not yet final ("X|id,id,…" the same for the messages of
-- one admission batch that expire in the same second), "w|id" makes the head of the message's
-- webhook list due again (a ticket in the webhook stream).
-- in:  ARGV[4] limit
-- out: number of timers handled, where each message of an "X|" group counts as one (the caller
--      runs again at once when it reaches the limit); a group cut short goes back, due now
local LIMIT = tonumber(ARGV[4])
local T = P .. 'timers'
-- A message taken by a dispatcher right now is left to it: take.lua expires it, and a submitted
-- message gets the upstream's own receipt or this one (looked at again in 30 s).
local function expire_at_validity(id)
  local st = redis.call('HGET', mkey(id), 'st')
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
  handled = handled + 1
  redis.call('ZREM', T, member)
  local kind, id = string.match(member, '^(%a)|([^|]+)')
  if kind == 's' or kind == 'r' then
    local k = mkey(id)
    local v = redis.call('HMGET', k, 'st', 'up')
    if v[1] == 'scheduled' or v[1] == 'queued' then
      if v[1] == 'scheduled' then
        redis.call('HSET', k, 'st', 'queued')
        event(id, 'queued', '', nil)
      end
      redis.call('XADD', P .. 'q:' .. v[2], '*', 'i', id)
    end
  elseif kind == 'x' then
    expire_at_validity(id)
  elseif kind == 'X' then
    local rest = {}
    for one in string.gmatch(id, '[^,]+') do
      if handled <= LIMIT then
        expire_at_validity(one)
        handled = handled + 1
      else
        rest[#rest + 1] = one
      end
    end
    if #rest > 0 then redis.call('ZADD', T, NOW, 'X|' .. table.concat(rest, ',')) end
  elseif kind == 'w' then
    redis.call('XADD', P .. 'wh', '*', 'i', id)
  end
end
flush_events()
return handled
