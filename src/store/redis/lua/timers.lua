-- timers: act on what is due. "s|id" scheduled and "r|id" retry go into their upstream's queue,
-- "x|id" validity end expires a message not yet final, "w|id" makes the head of the message's
-- webhook list due again (a ticket in the webhook stream).
-- in:  ARGV[4] limit
-- out: number of timers handled (the caller runs again at once when it equals the limit)
local LIMIT = tonumber(ARGV[4])
local T = P .. 'timers'
local due = redis.call('ZRANGEBYSCORE', T, '-inf', NOW, 'LIMIT', 0, LIMIT)
for _, member in ipairs(due) do
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
    local st = redis.call('HGET', mkey(id), 'st')
    -- A message taken by a dispatcher right now is left to it: take.lua expires it, and a
    -- submitted message gets the upstream's own receipt or this one.
    if st and not FINAL[st] and st ~= 'sending' then
      finalize(id, 'expired', 'VALIDITY_EXPIRED', 'EXPIRED', '000', nil)
    elseif st == 'sending' then
      redis.call('ZADD', T, NOW + 30000, member)
    end
  elseif kind == 'w' then
    redis.call('XADD', P .. 'wh', '*', 'i', id)
  end
end
flush_events()
return #due
