-- contact_put: create or replace one contact and keep its account's indexes true.
-- in:  ARGV[4] account, [5] id, [6] contact JSON, [7] createdAt (list order), [8] 1 = create only,
--      [9] 1 = replace only, [10..] the contact's index entries ("phone:<digits>", "<channel>:<id>")
-- out: {'ok'} | {'exists'} (create only, id taken) | {'missing'} (replace only, no such id)
--      | {'conflict', entry, other id} (an entry belongs to another contact; nothing written)
local ACCT, ID, JSON, CREATED = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local ck = P .. 'ct:' .. ACCT .. ':' .. ID
local ix = P .. 'cti:' .. ACCT
local exists = redis.call('EXISTS', ck) == 1
if ARGV[8] == '1' and exists then return { 'exists' } end
if ARGV[9] == '1' and not exists then return { 'missing' } end
local entries = {}
for i = 10, #ARGV do entries[#entries + 1] = ARGV[i] end
for _, e in ipairs(entries) do
  local owner = redis.call('HGET', ix, e)
  if owner and owner ~= ID then return { 'conflict', e, owner } end
end
-- Entries the old version had and this one does not are released.
local old = redis.call('HGET', ck, 'x')
if old then
  local keep = {}
  for _, e in ipairs(entries) do keep[e] = true end
  for e in string.gmatch(old, '[^\n]+') do
    if not keep[e] then redis.call('HDEL', ix, e) end
  end
end
for _, e in ipairs(entries) do redis.call('HSET', ix, e, ID) end
redis.call('HSET', ck, 'j', JSON, 'x', table.concat(entries, '\n'))
if not exists then redis.call('ZADD', P .. 'ctl:' .. ACCT, CREATED, ID) end
return { 'ok' }
