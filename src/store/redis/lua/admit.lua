-- admit: accept a batch of messages in one round trip.
-- in:  ARGV[4] platform total tps, [5] its burst, [6] retention seconds (TTL of a batch's waiting
--      list; the caller caps each message's validity to it), [7] count,
--      [8] idempotency key ('' none), [9] idempotency record (stored with the codes), [10] its TTL,
--      [11] batch id ('' none), [12] the batch's maxConcurrent (0 none),
--      [13] most messages an upstream's queue may hold (waiting and in flight; 0 no cap),
--      [14] number of limit rows L, then L rows (stride 3): bucket name (account, account:channel
--      or platform:channel), tps, burst — each row once per batch, not once per message;
--      then the hand-off: the caller's consumer name in the send queues' group ('' none), the
--      number of rows H, then H rows (stride 2): upstream, messages its dispatcher in the caller's
--      process can send at once (see "Hand-off" below);
--      then per message (stride 15): id, account, channel, upstream, price micros,
--      registered_delivery (0/1/2), scheduleAt ms (0 none), expireAt ms, payload JSON, event base,
--      receipt addressing JSON ('' when no receipt is owed), webhook url ('' none), currency,
--      campaign ref ('' none; "account:campaignId", kept in field cp for finalize's campaign counts),
--      part price by network "mccmnc:micros,…" ('' none; receipts.lua settles to it)
-- out: { 'dup', record, codes } when the idempotency key was seen before (nothing admitted);
--      else per message a code and a retry hint in ms: 0 accepted, 1 account throttled,
--      2 platform throttled, 3 balance too low; then per queue entry handed off: upstream, entry
--      id, its message ids joined by ','
--
-- Per message this writes one hash (only the fields that are set), its id in the upstream's queue
-- and one event row (one stream entry for the whole batch's rows, one per upstream for its ids). It sets no TTL: every message gets a validity timer,
-- and finalize() gives the hash its final-retention TTL. Validity timers are written one per
-- distinct expiry time of the batch, not one per message (a batch is what one tick received, so
-- its default validities fall on a few milliseconds): timer "X|gid" and the group's hash
-- {p}xg:gid { n = messages not final yet, i = their ids joined with ',' }, where gid is the
-- group's first message id. Each message records its gid in field xg; finalize() counts the group
-- down and drops it at zero.
local PTPS, PBURST = tonumber(ARGV[4]), tonumber(ARGV[5])
local RET, N = tonumber(ARGV[6]), tonumber(ARGV[7])
local IDEM, IDEM_RECORD, IDEM_TTL = ARGV[8], ARGV[9], tonumber(ARGV[10])
local BATCH, BATCH_MAX = ARGV[11], tonumber(ARGV[12])
local MAX_QUEUE = tonumber(ARGV[13])
local NL = tonumber(ARGV[14])
local LIMITS = {}
for i = 0, NL - 1 do
  local o = 14 + i * 3
  LIMITS[ARGV[o + 1]] = { tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]) }
end
local STRIDE = 15
local HO = 14 + NL * 3
local CONSUMER, NH = ARGV[HO + 1], tonumber(ARGV[HO + 2])
-- upstream -> { room = messages its dispatcher can take, ids = handed, ok = queue has nothing waiting }
local HAND = {}
for i = 0, NH - 1 do
  HAND[ARGV[HO + 3 + i * 2]] = { room = tonumber(ARGV[HO + 4 + i * 2]), ids = {} }
end
local FIRST = HO + 2 + NH * 2
-- Queue depths (messages waiting or being sent, common.lua queue_depth) read once per upstream per batch.
local queued = {}

-- A repeated idempotency key: answer what the first request got, admit nothing.
if IDEM ~= '' then
  local seen = redis.call('HMGET', IDEM, 'r', 'c')
  if seen[1] then return { 'dup', seen[1], seen[2] or '' } end
end

-- Whether every entry of an upstream's queue was read by the dispatch group already (read once a
-- run, when the first message for the upstream is accepted).
local function queue_idle(up)
  local q = P .. 'q:' .. up
  local groups = redis.pcall('XINFO', 'GROUPS', q)
  if type(groups) ~= 'table' or groups.err then return false end
  for _, g in ipairs(groups) do
    local name, last
    for j = 1, #g, 2 do
      if g[j] == 'name' then name = g[j + 1] elseif g[j] == 'last-delivered-id' then last = g[j + 1] end
    end
    if name == 'dispatch' and last then return #redis.call('XRANGE', q, '(' .. last, '+', 'COUNT', 1) == 0 end
  end
  return false
end

-- The hand-off row of an upstream that takes this message now, or nil.
local function hand_for(up, exp)
  local h = HAND[up]
  if not h or #h.ids >= h.room then return nil end
  if (tonumber(exp) or 0) > 0 and NOW >= tonumber(exp) then return nil end
  if h.ok == nil then h.ok = queue_idle(up) end
  if h.ok then return h end
  return nil
end

local buckets = {}
-- Token bucket: `rate` tokens a second up to `burst`, refilled from the time of the last use.
local function bucket(name, rate, burst)
  local b = buckets[name]
  if b then return b end
  if not rate then
    local l = LIMITS[name]
    rate, burst = l[1], l[2]
  end
  local key = P .. 'tb:' .. name
  local v = redis.call('HMGET', key, 't', 'ts')
  local t = tonumber(v[1]) or burst
  local ts = tonumber(v[2]) or NOW
  if NOW > ts then t = math.min(burst, t + (NOW - ts) * rate / 1000) end
  b = { t = t, rate = rate, key = key }
  buckets[name] = b
  return b
end
-- How long until the bucket has a whole token again.
local function wait_ms(b)
  return math.max(1, math.ceil((1 - b.t) * 1000 / b.rate))
end

-- Balances are read once per account and written once per batch (DECRBY of the batch's total).
local balances = {}
local function balance(acct)
  local b = balances[acct]
  if not b then
    b = { left = tonumber(redis.call('GET', P .. 'bal:' .. acct) or '0'), spent = 0 }
    balances[acct] = b
  end
  return b
end

local platform = bucket('platform', PTPS, PBURST)
-- Validity groups of this batch, by expiry time: { ids }.
local expiring = {}
local out = {}
local codes = {}
local accepted = 0
-- maxConcurrent: the first BATCH_MAX messages go ahead holding a slot each; the others wait in
-- the batch's list, and finalize() hands a freed slot to the next one.
local CAPPED = BATCH ~= '' and BATCH_MAX > 0
local WAITING = P .. 'btw:' .. BATCH
for i = 0, N - 1 do
  local o = FIRST + i * STRIDE
  local id, acct, channel, up = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  -- Every limit the message passes: the account's total and channel rows, the platform's channel and total rows.
  local acc = bucket(acct)
  local accc = bucket(acct .. ':' .. channel)
  local platc = bucket('platform:' .. channel)
  local price = tonumber(ARGV[o + 5])
  local code, retry = 0, 0
  if acc.t < 1 then
    code, retry = 1, wait_ms(acc)
  elseif accc.t < 1 then
    code, retry = 1, wait_ms(accc)
  elseif platc.t < 1 then
    code, retry = 2, wait_ms(platc)
  elseif platform.t < 1 then
    code, retry = 2, wait_ms(platform)
  elseif MAX_QUEUE > 0 then
    -- Backpressure: when sending falls behind, new messages are refused rather than piled up.
    if not queued[up] then queued[up] = queue_depth(up) end
    if queued[up] >= MAX_QUEUE then code, retry = 2, 1000 end
  end
  if code == 0 and price > 0 then
    local bal = balance(acct)
    if bal.left < price then
      code = 3
    else
      bal.left = bal.left - price
      bal.spent = bal.spent + price
    end
  end
  if code == 0 then
    accepted = accepted + 1
    if queued[up] then queued[up] = queued[up] + 1 end
    acc.t, accc.t, platc.t, platform.t = acc.t - 1, accc.t - 1, platc.t - 1, platform.t - 1
    local sched, exp = tonumber(ARGV[o + 7]), ARGV[o + 8]
    local k = mkey(id)
    local st = 'queued'
    local waits = CAPPED and accepted > BATCH_MAX
    if sched > NOW or waits then st = 'scheduled' end
    -- The status the hash starts with: queued, or sending when handed off (the event row says queued).
    local hand = st == 'queued' and hand_for(up, exp) or nil
    -- Validity end: a message not final by then becomes expired (timers.lua).
    local group = expiring[exp]
    if group then group[#group + 1] = id else group = { id }; expiring[exp] = group end
    -- Absent fields read as their defaults: att 0, seq (events after the first) 0, no receipt
    -- addressing, no webhook.
    local f = { 'st', hand and 'sending' or st, 'a', acct, 'up', up, 'pr', ARGV[o + 5], 'rd', ARGV[o + 6], 'exp', exp,
      'j', ARGV[o + 9], 'eb', ARGV[o + 10], 'cur', ARGV[o + 13], 't0', NOW_S, 'xg', group[1] }
    if ARGV[o + 11] ~= '' then f[#f + 1] = 'ra'; f[#f + 1] = ARGV[o + 11] end
    if ARGV[o + 12] ~= '' then f[#f + 1] = 'wh'; f[#f + 1] = ARGV[o + 12] end
    if ARGV[o + 14] ~= '' then f[#f + 1] = 'cp'; f[#f + 1] = ARGV[o + 14] end
    if ARGV[o + 15] ~= '' then f[#f + 1] = 'nw'; f[#f + 1] = ARGV[o + 15] end
    if hand then f[#f + 1] = 'att'; f[#f + 1] = '1' end
    if waits then
      f[#f + 1] = 'bt'; f[#f + 1] = BATCH; f[#f + 1] = 'sa'; f[#f + 1] = ARGV[o + 7]
    elseif CAPPED then
      f[#f + 1] = 'bt'; f[#f + 1] = BATCH; f[#f + 1] = 'btn'; f[#f + 1] = '1'
    end
    redis.call('HSET', k, unpack(f))
    if waits then
      -- released by finalize() of an earlier message of the batch
      redis.call('RPUSH', WAITING, id)
      redis.call('EXPIRE', WAITING, RET)
    elseif st == 'scheduled' then
      redis.call('ZADD', P .. 'timers', math.max(sched, NOW), 's|' .. id)
    elseif hand then
      hand.ids[#hand.ids + 1] = id
    else
      enqueue(up, id)
    end
    add_event(ARGV[o + 10], event_suffix(id .. ':1', st, '', ''))
  end
  out[#out + 1] = code
  out[#out + 1] = retry
  codes[#codes + 1] = code
end
for exp, ids in pairs(expiring) do
  redis.call('HSET', P .. 'xg:' .. ids[1], 'n', #ids, 'i', table.concat(ids, ','))
  redis.call('ZADD', P .. 'timers', exp, 'X|' .. ids[1])
end
for acct, b in pairs(balances) do
  if b.spent > 0 then
    redis.call('DECRBY', P .. 'bal:' .. acct, b.spent)
    -- reserved for messages not final yet (finalize() settles it)
    redis.call('INCRBY', P .. 'res:' .. acct, b.spent)
  end
end
for _, b in pairs(buckets) do
  redis.call('HSET', b.key, 't', tostring(b.t), 'ts', NOW)
  redis.call('PEXPIRE', b.key, 60000)
end
-- Handed-off messages: their entries, written before the run's other entries (flush_events) and
-- read at once by the caller's consumer, so the read returns exactly these.
for up, h in pairs(HAND) do
  if #h.ids > 0 then
    local entries = 0
    queue_write(up, h.ids, function(eid, joined)
      out[#out + 1], out[#out + 2], out[#out + 3] = up, eid, joined
      entries = entries + 1
    end)
    redis.call('XREADGROUP', 'GROUP', 'dispatch', CONSUMER, 'COUNT', entries, 'STREAMS', P .. 'q:' .. up, '>')
  end
end
-- The first answer is kept only when something was accepted: a request refused whole may be retried with its key.
if IDEM ~= '' and accepted > 0 then
  redis.call('HSET', IDEM, 'r', IDEM_RECORD, 'c', table.concat(codes, ','))
  redis.call('EXPIRE', IDEM, IDEM_TTL)
end
flush_events()
return out
