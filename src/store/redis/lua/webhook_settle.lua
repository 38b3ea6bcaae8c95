-- webhook_settle: record the outcomes of webhook attempts, each against the ticket it came from.
-- in:  ARGV[4] dead-letter stream max length, [5] count, then per ticket (stride 8): ticket entry id,
--      message id, the head record as read ('' when the list was empty), outcome (ok | retry | dead | drop),
--      due ms (retry), attempts made on this head, first attempt ms, reason (retry, dead)
-- out: { settled, stale } stale = tickets another process had settled already (nothing changed)
--
-- The ticket's XACK decides: 0 means another process (that claimed it, or was claimed from) settled
-- it first, so this outcome is dropped; that keeps one ticket or one timer per non-empty list.
local DEADMAX, N = tonumber(ARGV[4]), tonumber(ARGV[5])
local WH = P .. 'wh'
local settled, stale = 0, 0
for i = 0, N - 1 do
  local o = 5 + i * 8
  local eid, id, rec, outcome, due, n, f, reason =
    ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], ARGV[o + 6], ARGV[o + 7], ARGV[o + 8]
  local acked = redis.call('XACK', WH, 'webhook', eid)
  redis.call('XDEL', WH, eid)
  local q = P .. 'whq:' .. id
  if acked == 0 then
    stale = stale + 1
  elseif rec ~= '' and redis.call('LINDEX', q, 0) == rec then
    settled = settled + 1
    local s = P .. 'whs:' .. id
    if outcome == 'retry' then
      redis.call('HSET', s, 'n', n, 'f', f, 'e', reason)
      redis.call('ZADD', P .. 'timers', due, 'w|' .. id)
    else
      if outcome == 'dead' then
        redis.call('XADD', P .. 'whdead', 'MAXLEN', '~', DEADMAX, '*', 'i', id, 'r', reason, 'n', n, 'f', f, 't', NOW, 'b', rec)
      end
      redis.call('LPOP', q)
      redis.call('DEL', s)
      redis.call('DECR', P .. 'whn')
      redis.call('ZREM', P .. 'timers', 'w|' .. id)
      if redis.call('LLEN', q) > 0 then redis.call('XADD', WH, '*', 'i', id) end
    end
  end
  -- A head that is not `rec` any more (or an empty list): the ticket was a leftover; acked above.
end
return { settled, stale }
