-- campaign_control: one state transition of a campaign, refused when it is not allowed from the
-- current state (start: ingesting → scheduled/running; pause: scheduled/running → paused; resume:
-- paused → scheduled/running; cancel: any unfinished → cancelled; abort: ingesting → aborted;
-- tidy: a finished campaign stays as it is and its recipients go, for an upload that went on
-- writing them after a cancel).
-- in:  ARGV[4] campaign ref, [5] action
-- out: { 'ok', new status } or { 'illegal', current status } or { 'unknown', '' }
--
-- A campaign that ends (cancelled or aborted here, completed in campaign_claim.lua) drops its
-- recipients (cpr), which are the bulk of it and only there to be handed out; its hash (counts,
-- definition) and its first errors stay for progress and listing. Leases out at a cancel are still
-- settled by their holders (campaign_done.lua counts what they sent), so they go a day later.
local REF, ACTION = ARGV[4], ARGV[5]
local K = P .. 'cp:' .. REF
local LEASES_AFTER_END = 86400
local v = redis.call('HMGET', K, 'st', 'sa', 'n', 'cur', 't0')
local st = v[1]
if not st then return { 'unknown', '' } end
local sa = tonumber(v[2]) or 0
-- Every engine polls the campaigns in cpa (by creation time): those being uploaded or running.
-- A scheduled or paused one is not there, so nobody polls it; the timer ("c|", timers.lua) or a
-- resume puts it back.
local ACTIVE = P .. 'cpa'
local function go()
  if sa > NOW then
    redis.call('ZADD', P .. 'timers', sa, 'c|' .. REF)
    redis.call('ZREM', ACTIVE, REF)
    return 'scheduled'
  end
  redis.call('ZADD', ACTIVE, tonumber(v[5]) or NOW, REF)
  return 'running'
end
local new
if ACTION == 'start' and st == 'ingesting' then
  new = go()
  redis.call('HSET', K, 'ing', 0)
elseif ACTION == 'pause' and (st == 'running' or st == 'scheduled') then
  new = 'paused'
  redis.call('ZREM', P .. 'timers', 'c|' .. REF)
  redis.call('ZREM', ACTIVE, REF)
elseif ACTION == 'resume' and st == 'paused' then
  new = go()
elseif ACTION == 'cancel' and (st == 'running' or st == 'scheduled' or st == 'paused' or st == 'ingesting') then
  new = 'cancelled'
  redis.call('ZREM', P .. 'timers', 'c|' .. REF)
  -- Recipients never handed out (not yet reached, or waiting for their window) are cancelled.
  local left = math.max(0, (tonumber(v[3]) or 0) - (tonumber(v[4]) or 0)) + redis.call('ZCARD', P .. 'cpd:' .. REF)
  redis.call('UNLINK', P .. 'cpd:' .. REF, P .. 'cpr:' .. REF)
  redis.call('EXPIRE', P .. 'cpl:' .. REF, LEASES_AFTER_END)
  redis.call('HSET', K, 'cnl', left, 'ing', 0, 'cur', tonumber(v[3]) or 0, 'tdone', NOW)
  redis.call('ZREM', ACTIVE, REF)
elseif ACTION == 'abort' and st == 'ingesting' then
  new = 'aborted'
  redis.call('UNLINK', P .. 'cpr:' .. REF)
  redis.call('HSET', K, 'ing', 0)
  redis.call('ZREM', ACTIVE, REF)
elseif ACTION == 'tidy' and (st == 'cancelled' or st == 'completed' or st == 'aborted') then
  redis.call('UNLINK', P .. 'cpr:' .. REF)
  return { 'ok', st }
else
  return { 'illegal', st }
end
redis.call('HSET', K, 'st', new)
return { 'ok', new }
