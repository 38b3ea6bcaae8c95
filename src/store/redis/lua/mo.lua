-- mo: mobile-originated messages from an upstream, owed to the receiver binds of an account.
-- in:  ARGV[4] count, then per message (stride 5):
--      message id, account, payload (stored-message.ts), event base, delivery stream suffix ('' the
--      account's SMPP binds, '/xmpp' its XMPP users; keys.ts)
-- out: count stored
local N = tonumber(ARGV[4])
-- An MO's core: its account and arrival, nothing of what a sent message has.
local NO_TAIL = core_tail('', '', '', '', '')
for i = 0, N - 1 do
  local o = 4 + i * 5
  local id, acct, j, eb, door = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5]
  local k = mkey(id)
  -- Final on arrival: kept as long as any final message.
  redis.call('HSET', k, 'st', 'delivered', 'k', core_of(acct, '', '', '', NOW_S, '', '', NO_TAIL), 'j', j, 'o', outcome_of('', '', '', ''))
  redis.call('EXPIRE', k, FINAL_RET_S)
  delivery_add(P .. 'd:' .. acct .. door, 'k', 'm', 'i', id, 'j', j)
  add_event(eb, event_suffix(id, '1', 'received', '', ''))
end
flush_events()
return N
