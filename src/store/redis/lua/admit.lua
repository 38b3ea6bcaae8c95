-- admit: accept a batch of messages in one round trip.
-- in:  ARGV[4] platform total tps, [5] its burst, [6] retention seconds (TTL of a batch's waiting
--      list; the caller caps each message's validity to it), [7] count,
--      [8] idempotency key ('' none), [9] idempotency record (stored with the codes), [10] its TTL,
--      [11] batch id ('' none), [12] the batch's maxConcurrent (0 none),
--      [13] most messages an upstream's queue may hold (waiting and in flight; 0 no cap),
--      [14] number of limit rows L, then L rows (stride 3): bucket name (a:account,
--      a:account:channel or platform:channel), tps, burst — each row once per batch, not once per message;
--      then the hand-off: the caller's consumer name in the send queues' group ('' none), the
--      number of rows H, then H rows (stride 3): upstream, messages of this batch its dispatcher in
--      the caller's process took room for, messages more its window could take (for entries waiting
--      in the queue; see "Hand-off" below: take_waiting, hand_for);
--      then per message (stride 7): id, its profile (1-based), scheduleAt ms (0 none), expireAt
--      ms, payload (store/redis/stored-message.ts), event base, receipt addressing (the same
--      file's packAddressing; '' when no receipt is owed);
--      then the batch's profiles, what its messages mostly share (after the messages, so the
--      caller writes each message's arguments once, as it meets its profile): their number F,
--      then F rows (stride 5): account, channel, upstream, price micros, and the rest of the core
--      joined (common.lua core_tail): registered_delivery (0/1/2), currency, campaign ref ('' none;
--      "account:campaignId", for finalize's campaign counts), part price by network
--      "mccmnc:micros,…" ('' none; receipts.lua settles to it), webhook url ('' none).
--      A batch of one account's messages to one upstream at one price is one profile: four
--      arguments a message fewer than each message carrying them (each ~0.2 µs of Redis CPU,
--      bench:admit-anatomy), and its buckets looked up once.
-- out: { 'dup', record, codes } when the idempotency key was seen before (nothing admitted);
--      else per message a code and a retry hint in ms: 0 accepted, 1 account throttled,
--      2 platform throttled, 3 balance too low; then per queue entry handed off (stride 4):
--      upstream, entry id, its message ids joined by ',', and '1' for an entry this run wrote (its
--      messages are being sent, attempt 1) or '0' for one that was waiting in the queue (its messages
--      are taken as the dispatcher's own reads are, take.lua); an upstream's waiting entries come first
--
-- Per message this writes one hash (its status, core, payload, event base, validity group and the
-- fields that are set) or, for a message that waits in its queue (neither handed over, scheduled
-- nor in a capped batch), one field of {p}qr holding the same (common.lua materialize), its id in
-- the upstream's queue
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
local STRIDE = 7
local HO = 14 + NL * 3
local CONSUMER, NH = ARGV[HO + 1], tonumber(ARGV[HO + 2])
-- upstream -> { room = this batch's messages its dispatcher can take, spare = more its window can
-- take, ids = handed, waiting = entries read from the queue, ok = hand-off possible (take_waiting) }
local HAND = {}
for i = 0, NH - 1 do
  local o = HO + 2 + i * 3
  HAND[ARGV[o + 1]] = { room = tonumber(ARGV[o + 2]), spare = tonumber(ARGV[o + 3]), ids = {}, waiting = {} }
end
local FIRST = HO + 2 + NH * 3
local PO = FIRST + N * STRIDE
local NF = tonumber(ARGV[PO + 1])
-- Queue depths (messages waiting or being sent, common.lua queue_depth) read once per upstream per batch.
local queued = {}

-- A repeated idempotency key: answer what the first request got, admit nothing.
if IDEM ~= '' then
  local seen = redis.call('HMGET', IDEM, 'r', 'c')
  if seen[1] then return { 'dup', seen[1], seen[2] or '' } end
end

-- Hand-off. A message due now goes straight to the caller's dispatcher, in an entry this run
-- writes and reads for the caller's consumer, when that dispatcher offered room and nothing
-- waiting in the queue would be left behind it. Entries waiting (written while no dispatcher had
-- room, or by a process without one) are read for the consumer in the same run, ahead of the
-- batch's own, when they are few (WAITING_MAX) and their messages fit in the dispatcher's window
-- with the batch's (room and spare; the window's own wait takes any excess): without that,
-- a queue that once had entries waiting kept them, every batch finding the last one's, and the
-- dispatcher took every message through take.lua (e2e at 9,000/s from a cold start: 3,297 of
-- 174,462 handed over, docs/scaling.md). Checked once a run per upstream, when the first message
-- for it is accepted; the waiting entries' ids are answered ahead of the handed ones.
local WAITING_MAX = 8
local function take_waiting(up, h)
  local q = P .. 'q:' .. up
  local groups = redis.pcall('XINFO', 'GROUPS', q)
  if type(groups) ~= 'table' or groups.err then return false end
  local last, lag
  for _, g in ipairs(groups) do
    local name, lid, lg
    for j = 1, #g, 2 do
      local f = g[j]
      if f == 'name' then name = g[j + 1] elseif f == 'last-delivered-id' then lid = g[j + 1] elseif f == 'lag' then lg = g[j + 1] end
    end
    if name == 'dispatch' then last, lag = lid, lg end
  end
  if not last then return false end
  -- The group's lag (entries not delivered yet) when Redis knows it (not after some deletions):
  -- none waiting, or too many to read, without reading them.
  if type(lag) == 'number' then
    if lag == 0 then return true end
    if lag > WAITING_MAX then return false end
  end
  local waiting = redis.call('XRANGE', q, '(' .. last, '+', 'COUNT', WAITING_MAX + 1)
  if #waiting == 0 then return true end
  if #waiting > WAITING_MAX then return false end
  -- Each entry's id and its ids joined (field i), and how many messages they hold in all.
  local found, n = {}, 0
  for _, e in ipairs(waiting) do
    local f, ids = e[2], ''
    for j = 1, #f, 2 do
      if f[j] == 'i' then ids = f[j + 1] end
    end
    if ids ~= '' then
      local _, commas = string.gsub(ids, ',', '')
      n = n + commas + 1
    end
    found[#found + 1] = { e[1], ids }
  end
  if n > h.room + h.spare then return false end
  -- Stream ids only grow, and nothing else runs meanwhile: this reads exactly the entries above.
  redis.call('XREADGROUP', 'GROUP', 'dispatch', CONSUMER, 'COUNT', #waiting, 'STREAMS', q, '>')
  h.waiting = found
  return true
end

-- The hand-off row of an upstream that takes this message now, or nil.
local function hand_for(up, exp)
  local h = HAND[up]
  if not h or #h.ids >= h.room then return nil end
  if (tonumber(exp) or 0) > 0 and NOW >= tonumber(exp) then return nil end
  if h.ok == nil then h.ok = take_waiting(up, h) end
  if h.ok then return h end
  return nil
end

-- Token buckets: `rate` tokens a second up to `burst`, refilled from the time of the last use.
-- Every bucket is a field of one hash ({p}tb: platform, a:<account>, a:<account>:<channel> and
-- platform:<channel>, so an account named "platform" has buckets of its own; as many as the
-- config has accounts and channels), its value
-- "tokens:last use ms", read with one HMGET and written with one HSET a run. A key per bucket
-- with a TTL cost an HMGET, an HSET and a PEXPIRE each: 12 of the ~25 commands a run sends
-- whatever its size. What a run costs besides its messages (~120 us of Redis CPU before this,
-- bench:script-calls) is paid by the 20-35 messages a run carries end to end (docs/scaling.md).
-- A bucket unused for a while refills to its burst either way.
local TB = P .. 'tb'
local buckets = {}
do
  local names, limits = { 'platform' }, { { PTPS, PBURST } }
  for name, l in pairs(LIMITS) do
    names[#names + 1] = name
    limits[#limits + 1] = l
  end
  local got = redis.call('HMGET', TB, unpack(names))
  for i, name in ipairs(names) do
    local rate, burst = limits[i][1], limits[i][2]
    local t, ts
    if got[i] then t, ts = string.match(got[i], '^([^:]*):(.*)$') end
    t, ts = tonumber(t) or burst, tonumber(ts) or NOW
    if NOW > ts then t = math.min(burst, t + (NOW - ts) * rate / 1000) end
    buckets[name] = { t = t, rate = rate }
  end
end
-- How long until the bucket has a whole token again.
local function wait_ms(b)
  return math.max(1, math.ceil((1 - b.t) * 1000 / b.rate))
end

-- The batch's profiles, each with the token buckets its messages pass: the account's total and
-- channel rows, the platform's channel row (the platform's total is `platform`, below).
local PROFILES = {}
for i = 1, NF do
  local o = PO + 1 + (i - 1) * 5
  local acct, channel = ARGV[o + 1], ARGV[o + 2]
  PROFILES[i] = {
    acct = acct, up = ARGV[o + 3], pr = ARGV[o + 4], price = tonumber(ARGV[o + 4]), tail = ARGV[o + 5],
    acc = buckets['a:' .. acct], accc = buckets['a:' .. acct .. ':' .. channel], platc = buckets['platform:' .. channel],
    -- its messages' cores by validity end, for those with no batch cap or paced send time
    cores = {},
  }
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

local platform = buckets['platform']
-- The run's waiting messages (id, record, …) for one HSET of {p}qr: see common.lua materialize.
local waiting = {}
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
  local id, pf = ARGV[o + 1], PROFILES[tonumber(ARGV[o + 2])]
  local acct, up, price = pf.acct, pf.up, pf.price
  -- Every limit the message passes: the account's total and channel rows, the platform's channel and total rows.
  local acc, accc, platc = pf.acc, pf.accc, pf.platc
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
    local sched, exp = tonumber(ARGV[o + 3]), ARGV[o + 4]
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
    local bt, sa = '', ''
    if CAPPED then bt = BATCH end
    if waits then sa = ARGV[o + 3] end
    -- A batch's messages mostly share their profile and validity end, so their core too: made
    -- once for them (each new Lua string is hashed and interned; bench:admit-anatomy).
    local core
    if bt == '' and sa == '' then
      core = pf.cores[exp]
      if not core then
        core = core_of(acct, up, pf.pr, exp, NOW_S, bt, sa, pf.tail)
        pf.cores[exp] = core
      end
    else
      core = core_of(acct, up, pf.pr, exp, NOW_S, bt, sa, pf.tail)
    end
    if hand or st ~= 'queued' or CAPPED then
      local k = mkey(id)
      local f = { 'st', hand and 'sending' or st, 'k', core, 'j', ARGV[o + 5], 'eb', ARGV[o + 6], 'xg', group[1] }
      if ARGV[o + 7] ~= '' then f[#f + 1] = 'ra'; f[#f + 1] = ARGV[o + 7] end
      if hand then f[#f + 1] = 'att'; f[#f + 1] = '1' end
      if CAPPED and not waits then f[#f + 1] = 'btn'; f[#f + 1] = '1' end
      redis.call('HSET', k, unpack(f))
    else
      -- Waiting in the queue: a field of {p}qr until something needs its hash (common.lua materialize).
      waiting[#waiting + 1] = id
      waiting[#waiting + 1] = waiting_record(core, group[1], ARGV[o + 5], ARGV[o + 7], ARGV[o + 6])
    end
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
    add_event(ARGV[o + 6], event_suffix(id, '1', st, '', ''))
  end
  out[#out + 1] = code
  out[#out + 1] = retry
  codes[#codes + 1] = code
end
-- In chunks: unpack() of more than a few thousand values overflows Lua's C stack.
for c = 1, #waiting, 2000 do
  redis.call('HSET', waiting_key(), unpack(waiting, c, math.min(c + 1999, #waiting)))
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
do
  local f = {}
  for name, b in pairs(buckets) do
    f[#f + 1] = name
    f[#f + 1] = tostring(b.t) .. ':' .. NOW_S
  end
  redis.call('HSET', TB, unpack(f))
end
-- Handed-off messages: the waiting entries read for the consumer (take_waiting), then the batch's
-- own, written before the run's other entries (flush_events) and read at once by the caller's
-- consumer, so the read returns exactly these.
for up, h in pairs(HAND) do
  for _, w in ipairs(h.waiting) do
    out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = up, w[1], w[2], '0'
  end
  if #h.ids > 0 then
    local entries = 0
    queue_write(up, h.ids, function(eid, joined)
      out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = up, eid, joined, '1'
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
