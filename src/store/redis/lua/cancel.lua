-- cancel: cancel_sm / API cancel of a message that has not left yet.
-- in:  ARGV[4] account, [5] message id
-- out: 1 cancelled, 0 not cancellable (already sent or final), -1 unknown to this account
local ACCT, ID = ARGV[4], ARGV[5]
local v, k = hash_of(ID, 'st', 'k')
if not v[1] or core(k, v[2]) ~= ACCT then return -1 end
if not cancel_unsent(ID, v[1]) then return 0 end
flush_events()
return 1
