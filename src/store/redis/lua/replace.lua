-- replace: replace_sm of a message that has not left yet (SMPP 3.4 §4.10).
-- in:  ARGV[4] account, [5] message id, [6] payload, [7] receipt addressing (both stored-message.ts),
--      [8] scheduleAt ms (0 keep), [9] expireAt ms (0 keep), [10] registered_delivery ('' keep)
-- out: 1 replaced, 0 not replaceable, -1 unknown to this account
local ACCT, ID = ARGV[4], ARGV[5]
local v, k = hash_of(ID, 'st', 'k', 'xg')
if not v[1] then return -1 end
local acct, up, pr, exp0, t0, bt, sa, rd, cur, cp, nw, wh = core(k, v[2])
if acct ~= ACCT then return -1 end
if v[1] ~= 'queued' and v[1] ~= 'scheduled' then return 0 end
local sched, exp = tonumber(ARGV[8]), tonumber(ARGV[9])
if ARGV[10] ~= '' then rd = ARGV[10] end
if exp > 0 then exp0 = ARGV[9] end
if v[2] then
  redis.call('HSET', k, 'j', ARGV[6], 'ra', ARGV[7], 'k', core_of(acct, up, pr, exp0, t0, bt, sa, core_tail(rd, cur, cp, nw, wh)))
else
  -- A hash written before the core was packed (common.lua core) keeps its fields.
  redis.call('HSET', k, 'j', ARGV[6], 'ra', ARGV[7], 'rd', rd or '0', 'exp', exp0 or '0')
end
if exp > 0 then
  if v[3] then
    redis.call('HDEL', k, 'xg')
    leave_validity_group(v[3])
  end
  redis.call('ZADD', P .. 'timers', exp, 'x|' .. ID)
end
if sched > 0 and v[1] == 'scheduled' then
  redis.call('ZADD', P .. 'timers', sched, 's|' .. ID)
elseif sched > NOW and v[1] == 'queued' then
  -- A later schedule_delivery_time for a message already queued: it waits for it (take.lua acks
  -- the queue entry of a message that is not queued, and the timer queues it again when due).
  redis.call('HSET', k, 'st', 'scheduled')
  redis.call('ZADD', P .. 'timers', sched, 's|' .. ID)
end
event(ID, 'replaced', '', nil)
flush_events()
return 1
