-- retry: a transient failure (throttled, queue full, timeout, no session): send again later.
-- in:  ARGV[4] upstream, [5] max attempts, [6] count, then per message (stride 3):
--      message id, due time ms, error code
-- out: number given up (attempts exhausted → failed)
local MAX, N = tonumber(ARGV[5]), tonumber(ARGV[6])
local gaveUp = 0
for i = 0, N - 1 do
  local o = 6 + i * 3
  local id, due, err = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3]
  local v, k = hash_of(id, 'st', 'att')
  if v[1] == 'sending' or v[1] == 'queued' then
    if (tonumber(v[2]) or 0) >= MAX then
      finalize(id, 'failed', err, 'UNDELIV', '000', nil)
      gaveUp = gaveUp + 1
    else
      redis.call('HSET', k, 'st', 'queued', 'err', err)
      redis.call('ZADD', P .. 'timers', due, 'r|' .. id)
    end
  end
end
flush_events()
return gaveUp
