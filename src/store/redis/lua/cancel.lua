-- cancel: cancel_sm / API cancel of a message that has not left yet.
-- in:  ARGV[4] account, [5] message id
-- out: 1 cancelled, 0 not cancellable (already sent or final), -1 unknown to this account
local ACCT, ID = ARGV[4], ARGV[5]
local v = redis.call('HMGET', mkey(ID), 'st', 'a')
if not v[1] or v[2] ~= ACCT then return -1 end
if v[1] ~= 'queued' and v[1] ~= 'scheduled' then return 0 end
redis.call('ZREM', P .. 'timers', 's|' .. ID, 'r|' .. ID)
finalize(ID, 'cancelled', 'CANCELLED', 'DELETED', '000', nil)
flush_events()
return 1
