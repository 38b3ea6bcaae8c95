-- queue_ack: send-queue entries a dispatcher is done with (router/dispatcher.ts): each of their
-- messages has its outcome recorded, or was never taken and goes back to the queue.
-- in:  ARGV[4] upstream, [5] count, then per entry (stride 3): entry id, messages that left the
--      queue (settled), ids to queue again in a new entry (joined by ','; '' none)
-- out: messages that left the queue
local UP, N = ARGV[4], tonumber(ARGV[5])
local q = P .. 'q:' .. UP
local left = 0
local done = {}
for i = 0, N - 1 do
  local o = 5 + i * 3
  local eid, settled, again = ARGV[o + 1], tonumber(ARGV[o + 2]), ARGV[o + 3]
  -- An entry claimed by a second consumer can be acked twice: only the first ack counts, and
  -- requeues.
  if redis.call('XACK', q, 'dispatch', eid) == 1 then
    left = left + settled
    if again ~= '' then redis.call('XADD', q, '*', 'i', again) end
  end
  done[#done + 1] = eid
end
-- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
for i = 1, #done, 1000 do
  redis.call('XDEL', q, unpack(done, i, math.min(i + 999, #done)))
end
if left > 0 and redis.call('DECRBY', P .. 'qn:' .. UP, left) < 0 then
  redis.call('SET', P .. 'qn:' .. UP, 0)
end
return left
