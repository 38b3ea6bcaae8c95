-- contact_delete: remove one contact and its index entries.
-- in:  ARGV[4] account, [5] id
-- out: 1 deleted, 0 no such contact
local ACCT, ID = ARGV[4], ARGV[5]
local ck = P .. 'ct:' .. ACCT .. ':' .. ID
local old = redis.call('HGET', ck, 'x')
if not old then return 0 end
local ix = P .. 'cti:' .. ACCT
for e in string.gmatch(old, '[^\n]+') do
  if redis.call('HGET', ix, e) == ID then redis.call('HDEL', ix, e) end
end
redis.call('DEL', ck)
redis.call('ZREM', P .. 'ctl:' .. ACCT, ID)
return 1
