-- fail: messages that end without reaching the upstream (permanent submit error, no route, too long).
-- in:  ARGV[4] upstream, [5] count, then per message (stride 4): message id,
--      status (failed|rejected|expired), error code, 3-digit receipt err
-- out: number finalized
local N = tonumber(ARGV[5])
local n = 0
for i = 0, N - 1 do
  local o = 5 + i * 4
  local id, status, err, derr = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  -- The ESME's receipt says UNDELIV for any permanent failure (EXPIRED when the validity ended).
  local stat = 'UNDELIV'
  if status == 'expired' then stat = 'EXPIRED' end
  -- Every step that meets a message by id writes its hash if it still waits (common.lua
  -- materialize): tried only when finalize() found no hash, as the dispatcher took it before.
  local done = finalize(id, status, err, stat, derr, nil)
  if not done and materialize(id) then done = finalize(id, status, err, stat, derr, nil) end
  if done then n = n + 1 end
end
flush_events()
return n
