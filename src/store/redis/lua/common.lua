-- Shared prelude of every Catalyst script (scripts.ts puts it before each script's own part, and
-- the whole Redis function library, when Redis has functions, before them all).
-- ARGV[1] key prefix, ARGV[2] now (epoch ms), ARGV[3] seconds a final message's state is kept.
-- Script arguments start at ARGV[4]; each script's header counts its own from there.
--
-- A call's state (its arguments, the time, the buffers a run flushes) lives in the locals below and
-- is set by begin() at the start of every call, never at load: a function library is loaded once
-- and its functions are called many times, so what one call leaves must not reach the next.
local ARGV
local P, NOW, FINAL_RET
-- The same two as they came (whole numbers in decimal), for commands' arguments: see num() below.
local NOW_S, FINAL_RET_S
local EVBUF, NUMS, EV_TAIL, QBUF, XGBUF, RESBUF, DLRBUF, DLRKEYS, DELIVERY_MINID, FINBUF, FINUBUF, FINUKEYS, REFUND
local function begin(args)
  ARGV = args
  P, NOW, FINAL_RET = args[1], tonumber(args[2]), tonumber(args[3])
  NOW_S, FINAL_RET_S = args[2], args[3]
  EVBUF, NUMS, QBUF, XGBUF, RESBUF, DLRBUF, DLRKEYS, FINBUF, FINUBUF, FINUKEYS = {}, {}, {}, {}, {}, {}, {}, {}, {}, {}
  -- Made when first needed (event_suffix, delivery_add, refunds).
  EV_TAIL, DELIVERY_MINID, REFUND = nil, nil, nil
end

-- A whole number as a command's argument or part of a string. Redis formats a Lua number passed
-- to redis.call with snprintf("%.17g") each time, and Lua's '..' and tostring() with "%.14g":
-- glibc's float formatting, ~4% of Redis's CPU end to end in a perf profile (docs/scaling.md).
-- Here each value is formatted once a run, as an integer.
local function num(n)
  local s = NUMS[n]
  if not s then
    s = string.format('%d', n)
    NUMS[n] = s
  end
  return s
end

-- Epoch ms -> 'YYYY-MM-DD hh:mm:ss' UTC (days to civil date: H. Hinnant's algorithm).
local function utc_datetime(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02d %02d:%02d:%02d', y, m, d, math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60)
end

-- Event rows are `message_events` rows as ClickHouse takes them (TabSeparated in the column
-- order of EVENT_ROW_COLUMNS, store/clickhouse/rows.ts): the message's columns the caller wrote at
-- admission (hash field eb), then the event's own, ending with the time of the run (EV_TAIL, made
-- at the run's first event). What is added here never holds a tab, newline or backslash (status
-- and codes are ours; upstream ids are cleaned by the caller).
-- The event's id is the message's and its number ("<id>:<n>"), joined in the same concatenation as
-- the rest: Lua makes one string of a chain of `..`, and every string it makes is hashed and interned.
local function event_suffix(id, n, status, err, umid)
  if not EV_TAIL then EV_TAIL = '\t' .. NOW_S .. '\t' .. utc_datetime(NOW) end
  return '\t' .. id .. ':' .. n .. '\t' .. status .. '\t' .. (err or '') .. '\t' .. (umid or '') .. EV_TAIL
end

-- A row goes into the events stream as two strings, the message's columns (base) and the event's
-- (suffix), a field and its value in the run's entry (flush_events); the writer joins them
-- (store/clickhouse/stream-replies.ts). Joined here, each row and then the run's whole text were
-- new Lua strings, and Lua hashes every byte of a new string: 3.1 µs of Redis CPU a row against
-- 0.85 (rows of ~300 bytes, 1,000 a run, docs/scaling.md).
local function add_event(base, suffix)
  local n = #EVBUF
  EVBUF[n + 1], EVBUF[n + 2] = base, suffix
end

local FINAL = { delivered = true, failed = true, expired = true, rejected = true, cancelled = true }
-- SMPP 3.4 Appendix B stat for each final status.
local STAT_OF = { delivered = 'DELIVRD', failed = 'UNDELIV', expired = 'EXPIRED', rejected = 'REJECTD', cancelled = 'DELETED' }

local function mkey(id) return P .. 'm:' .. id end

-- A message that admission neither hands to a dispatcher nor schedules waits in its upstream's
-- queue as one field of {p}qr (admit.lua), not as a hash of its own: its id to its record, the
-- values its hash would hold joined by \30: core (k), validity group (xg), payload (j), receipt
-- addressing (ra, '' none) and event base (eb), in that order. The base comes last because it is
-- TabSeparated text, which may hold any byte; the core's values, an id and two JSON texts hold no
-- \30 (store/redis/message-store.ts coreTail percent-encodes it in a webhook URL). One HSET of a
-- run's waiting messages costs Redis a field each where a hash each cost a key, a listpack and
-- its fields: SMPP ingress 104,898 submits/s against 77,842 in a throwaway's ceiling (docs/scaling.md).
-- The message's hash is written, as admission would have written it, when something first
-- needs it by id (materialize): the dispatcher's take, cancel, replace, a validity timer, an
-- orchestration step; store/redis/message-store.ts get() reads the field as it is.
local function waiting_key() return P .. 'qr' end
local function waiting_record(core, xg, j, ra, eb)
  return core .. '\30' .. xg .. '\30' .. j .. '\30' .. ra .. '\30' .. eb
end
-- A waiting message's record in its parts: core, validity group, payload, addressing ('' none),
-- event base; nil when it has none (it was never waiting, or its hash is written already).
local function waiting_parts(id)
  local r = redis.call('HGET', waiting_key(), id)
  if not r then return nil end
  local a = string.find(r, '\30', 1, true)
  local b = string.find(r, '\30', a + 1, true)
  local c = string.find(r, '\30', b + 1, true)
  local d = string.find(r, '\30', c + 1, true)
  return string.sub(r, 1, a - 1), string.sub(r, a + 1, b - 1), string.sub(r, b + 1, c - 1), string.sub(r, c + 1, d - 1), string.sub(r, d + 1)
end
-- Writes a waiting message's hash as admission would have, with status st (and its attempt, for
-- take.lua's sending: one HSET, not two), and drops its record, or leaves that to the caller's one
-- HDEL of them all when it passes `dropped` (a list the id is added to; take.lua).
local function write_waiting(id, st, att, core, xg, j, ra, eb, dropped)
  local f = { 'st', st, 'k', core, 'j', j, 'eb', eb, 'xg', xg }
  if ra ~= '' then
    f[#f + 1] = 'ra'
    f[#f + 1] = ra
  end
  if att then
    f[#f + 1] = 'att'
    f[#f + 1] = att
  end
  redis.call('HSET', mkey(id), unpack(f))
  if dropped then dropped[#dropped + 1] = id else redis.call('HDEL', waiting_key(), id) end
end
-- Writes a waiting message's hash (status queued) and drops its record; false when it has none.
local function materialize(id)
  local core, xg, j, ra, eb = waiting_parts(id)
  if not core then return false end
  write_waiting(id, 'queued', nil, core, xg, j, ra, eb)
  return true
end
-- How every step that meets a message by id reads it: HMGET of its hash's fields (the first 'st',
-- which every hash has) and its key, the hash written first from its record when it still waits.
-- The record is looked for only when the hash is missing: one HGET for those, none for the others.
local function hash_of(id, ...)
  local k = mkey(id)
  local v = redis.call('HMGET', k, ...)
  if not v[1] and materialize(id) then v = redis.call('HMGET', k, ...) end
  return v, k
end

-- A message's core: what admission knows of it and later steps only read, packed into one hash
-- field (k), its values joined by \31 (the unit separator, which none of them holds: ids, names
-- and numbers are ours, the receipt addressing JSON escapes control characters and a URL
-- percent-encodes them). Each field of a hash costs Redis at every write of it and every
-- argument that carries it: admission wrote 13 fields a message and finalize() read 18
-- (bench:storage-sketch, docs/scaling.md). In this order:
--   account, upstream, price micros, expireAt ms, admitted at ms, batch id, paced send time ms,
--   then what the appliance joins (store/redis/message-store.ts coreTail): registered_delivery,
--   currency, campaign ref, part price by network, webhook URL.
-- Absent values are empty. Hashes written before the core was packed keep these as fields of
-- their own (CORE_FIELDS), and core() reads them there.
local CORE_FIELDS = { 'a', 'up', 'pr', 'exp', 't0', 'bt', 'sa', 'rd', 'cur', 'cp', 'nw', 'wh' }
-- A value and its separator, once for each value before the last. Spelled out: a function library's
-- code has none of Lua's libraries (string.rep) while it loads.
local CORE_VALUE = '([^\31]*)\31'
local CORE_PATTERN = '^' .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE
  .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. CORE_VALUE .. '(.*)$'
local function core_of(acct, up, pr, exp, t0, bt, sa, tail)
  return acct .. '\31' .. up .. '\31' .. pr .. '\31' .. exp .. '\31' .. t0 .. '\31' .. bt .. '\31' .. sa .. '\31' .. tail
end
local function core_tail(rd, cur, cp, nw, wh)
  return rd .. '\31' .. cur .. '\31' .. cp .. '\31' .. nw .. '\31' .. wh
end
-- The core's values in CORE_FIELDS order from field k as read (`packed`), or from the fields of a
-- hash written before it (`k` the hash's key). Absent ones are false or ''.
local function core(k, packed)
  if packed then return string.match(packed, CORE_PATTERN) end
  return unpack(redis.call('HMGET', k, unpack(CORE_FIELDS)))
end
local function present(v) return v and v ~= '' end

-- The fields of a message's payload (j) the webhooks need: its channel, and those of the fields
-- most messages leave out that they name (rateCardId, orchestrationId, webhookFormat, clientRef).
-- j is an array, the Message's common fields by position and the rest in an object at 18
-- (store/redis/stored-message.ts), or the Message's own JSON object in hashes written before it.
-- Unreadable JSON gives an empty table.
local function message_fields(j)
  local ok, m = pcall(cjson.decode, j or '')
  if not ok or type(m) ~= 'table' then return {} end
  if m[1] == nil then return m end
  local r = m[18]
  if type(r) ~= 'table' then r = {} end
  r.channel = m[4]
  return r
end

-- A final message's outcome, one field (o) written once: when it ended (ms), its error code, its
-- receipt's stat and 3-digit err, and what it cost when that is not its reserve ('': the price pr,
-- core above). Read by store/redis/message-store.ts (OUTCOME_FIELDS) and orch_sent.lua. Hashes
-- finalized before it was packed keep the fields td, err, dlr, dle and bp.
local function outcome_of(err, stat, derr, billed)
  return NOW_S .. '\31' .. err .. '\31' .. stat .. '\31' .. derr .. '\31' .. billed
end
-- The error code of an outcome as outcome_of() wrote it.
local function outcome_err(o) return string.match(o, '^[^\31]*\31([^\31]*)') end

-- What the upstream's acceptance recorded (submitted.lua), one field (sb) written once: when (ms),
-- the upstream's ids joined by ',' (one a part; cleaned by the caller, no control characters) and
-- the parts count. Read by store/redis/message-store.ts (SENT_FIELDS) and the RCS fallback. Hashes
-- submitted before it was packed keep the fields ts, umid and np (sent() reads them there).
local function sent_of(umids, np) return NOW_S .. '\31' .. umids .. '\31' .. np end
local SENT_PATTERN = '^([^\31]*)\31([^\31]*)\31(.*)$'
-- The upstream ids and parts count of a submitted message, from field sb as read (`packed`), or
-- from the fields of a hash written before it (`k` its key); nil when it has none.
local function sent(k, packed)
  if packed then
    local _, umids, np = string.match(packed, SENT_PATTERN)
    return umids, np
  end
  local v = redis.call('HMGET', k, 'umid', 'np')
  return v[1], v[2]
end

-- Receipts that arrived before their submit_sm_resp (receipts.lua holds them, submitted.lua applies
-- them): one hash per upstream and hour, upstream id -> "stat|err|network". submitted.lua reads
-- this hour's and the last, so a receipt is held at least an hour; the bucket outlives that.
local EARLY_BUCKET_TTL = 7200
local function early_bucket(upstream, hour) return P .. 'eh:' .. upstream .. ':' .. hour end

-- The send queue of an upstream ({p}q:<upstream>, router/dispatcher.ts): one stream entry per
-- script run carries the ids it queued, joined by ',' (at most QUEUE_CHUNK an entry), and
-- {p}qn:<upstream> counts the messages in the queue, waiting or being sent (an entry is acked,
-- queue_ack.lua, when each of its messages has an outcome). An entry per message cost Redis about
-- 6 us a message more (an XADD, a read slot, an XACK and an XDEL each). flush_events() writes them.
local QUEUE_CHUNK = 100
local function enqueue(upstream, id)
  local ids = QBUF[upstream]
  if not ids then ids = {}; QBUF[upstream] = ids end
  ids[#ids + 1] = id
end

-- Writes ids into an upstream's queue now, in entries of up to QUEUE_CHUNK, and counts them.
-- `each(entry id, ids joined)` is called for every entry written, when given (admit.lua's hand-off).
local function queue_write(upstream, ids, each)
  local q = P .. 'q:' .. upstream
  for i = 1, #ids, QUEUE_CHUNK do
    local joined = table.concat(ids, ',', i, math.min(i + QUEUE_CHUNK - 1, #ids))
    local eid = redis.call('XADD', q, '*', 'i', joined)
    if each then each(eid, joined) end
  end
  redis.call('INCRBY', P .. 'qn:' .. upstream, #ids)
end

local function flush_queue()
  for upstream, ids in pairs(QBUF) do queue_write(upstream, ids) end
  QBUF = {}
end

-- Send-queue entries a dispatcher is done with (router/dispatcher.ts): each of their messages has
-- its outcome recorded, or was never taken and goes back to the queue. ARGV from `first`, `n` rows
-- (stride 3): entry id, messages that left the queue (settled), ids to queue again in a new entry
-- (joined by ','; '' none). queue_ack.lua, and submitted.lua for the entries its outcomes complete.
-- Returns the messages that left the queue.
local function ack_entries(upstream, first, n)
  local q = P .. 'q:' .. upstream
  local left = 0
  local done = {}
  for i = 0, n - 1 do
    local o = first + i * 3
    local eid, settled, again = ARGV[o], tonumber(ARGV[o + 1]), ARGV[o + 2]
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
  if left > 0 and redis.call('DECRBY', P .. 'qn:' .. upstream, left) < 0 then
    redis.call('SET', P .. 'qn:' .. upstream, 0)
  end
  return left
end

-- Messages in an upstream's queue (admission's backpressure). A count that outlived its stream (the
-- key deleted by hand) would refuse messages for ever: no entry left means nothing is queued.
local function queue_depth(upstream)
  local qn = P .. 'qn:' .. upstream
  local n = tonumber(redis.call('GET', qn) or '0')
  if n > 0 and redis.call('XLEN', P .. 'q:' .. upstream) == 0 then
    redis.call('DEL', qn)
    n = 0
  end
  return n
end

-- One event row per state change, appended to EVBUF and written with the run's others when it
-- flushes. The hash field seq counts the events after admission's (event id ':1'), so admission
-- need not write it. A caller that has already read eb and seq (HMGET) appends with event_row and
-- writes the returned seq (a string) in its own HSET; event() does both reads and the write itself.
local function event_row(id, base, seq, status, err, umid)
  seq = (tonumber(seq) or 0) + 1
  add_event(base, event_suffix(id, num(seq + 1), status, err, umid))
  return num(seq)
end

local function event(id, status, err, umid)
  local k = mkey(id)
  local base = redis.call('HGET', k, 'eb')
  if not base or base == '' then return end
  local seq = redis.call('HINCRBY', k, 'seq', 1)
  event_row(id, base, seq - 1, status, err, umid)
end

-- A message leaves its admission batch's validity group (admit.lua) when it is final or gets a
-- validity of its own; the group and its timer go when no message is left in it. The caller
-- clears the message's xg field. Counted down once per group when the run flushes
-- (flush_events), not once per message: a run's messages mostly come from a few admission batches.
local function leave_validity_group(gid)
  XGBUF[gid] = (XGBUF[gid] or 0) + 1
end

local function flush_validity_groups()
  for gid, n in pairs(XGBUF) do
    local gk = P .. 'xg:' .. gid
    if redis.call('HINCRBY', gk, 'n', -n) <= 0 then
      redis.call('DEL', gk)
      redis.call('ZREM', P .. 'timers', 'X|' .. gid)
    end
  end
  XGBUF = {}
end

-- RESBUF: reserve released by settle() in this run, by account: one DECRBY per account when the run
-- flushes, not one per message (every script that can finalize or queue a message flushes its events).

-- DLRBUF: receipts owed to ESMEs by finalize() in this run, by delivery stream (DLRKEYS keeps the order the
-- streams were first met): one entry per stream per run instead of an entry per receipt, whose
-- XADD, XREADGROUP slot, XACK and XDEL cost Redis ~5 µs a receipt (docs/scaling.md). An entry is
-- k=rb, dd the time of the run, b one line per receipt: "i TAB st TAB er TAB sd TAB ra" (ra the
-- receipt addressing JSON as stored, which holds no tab or newline: JSON escapes them). Lines, not
-- cjson.encode of records: a table per record, and ra escaped inside a JSON string, cost twice the
-- Redis CPU of these pieces (0.6 against 1.1 µs a receipt, measured alone). At most DLR_CHUNK
-- lines an entry: the hub (router/delivery-hub.ts) holds an entry until all of it got through, so
-- a smaller one is held less long and, when part of it failed, written back smaller.

-- The list kept for `key` in `bufs`, made (and `key` appended to `order`, the order keys were
-- first met in) when first asked for: the receipts owed by stream, the mappings to forget by upstream.
local function buffer_of(bufs, order, key)
  local b = bufs[key]
  if not b then
    b = {}
    bufs[key] = b
    order[#order + 1] = key
  end
  return b
end
local DLR_CHUNK = 200
-- Pieces a receipt adds to its stream's buffer (finalize()): '\n', i, '\t', st, '\t', er, '\t', sd, '\t', ra.
local DLR_PIECES = 10

-- An entry of a delivery stream (receipts or MO owed to an account's binds). Entries older than
-- router.deliveryRetentionSeconds ({p}settings dr, written by the router at start; unset: kept)
-- are trimmed as it is written: what no bind took in that long is dropped, as an SMSC does for an
-- ESME that stays away. Stream ids are their time in ms, so MINID is that age (DELIVERY_MINID, read
-- once a run).
local function delivery_add(dk, ...)
  if DELIVERY_MINID == nil then
    local s = tonumber(redis.call('HGET', P .. 'settings', 'dr') or '')
    DELIVERY_MINID = s and tostring(math.max(0, NOW - s * 1000)) or false
  end
  if DELIVERY_MINID then return redis.call('XADD', dk, 'MINID', DELIVERY_MINID, '*', ...) end
  return redis.call('XADD', dk, '*', ...)
end

-- A final message's hash goes FINAL_RET after its final state, deleted in bulk rather than given a
-- TTL each: a run lists the ids it finalized (FINBUF) in {p}fin:<minute> (the minute their retention ends,
-- rounded up; FIN_CHUNK ids an element) and timers.lua deletes them when "F|<minute>" is due. An
-- EXPIRE in Lua cost Redis 2.4-2.7 µs a message (the call and its AOF record), the deletion in
-- bulk 1.0-1.8 µs a key, and Redis's own expiry of a TTL ~0.2 µs (docs/scaling.md). (Hashes
-- finalized by a release before this keep the TTL they were given.)
local FIN_CHUNK = 250

-- Upstream message ids map to their message in one hash per upstream ({p}um:<upstream>, field the
-- upstream's id, value "id|part|parts"): submitted.lua writes a run's parts with one HSET, and
-- receipts.lua reads a run's with one HMGET, where a key per part cost a SET with its TTL and a
-- GETEX each: 6.5 µs of Redis a message more over the two scripts and the deletion below
-- (docs/scaling.md). A mapping goes with its message's hash: finalize() lists the message's ids by
-- upstream (FINUBUF, the same chunks as FINBUF) in {p}fu:<minute>, "<upstream>\n<ids joined by
-- ','>", and the timer "F|<minute>" deletes them from the hash. Mappings written as keys ({p}u:<upstream>:<id>, with a
-- TTL: before this hash, and the RCS fallback's) are still read when the hash has no such field.
local function umap(upstream) return P .. 'um:' .. upstream end
local function forget_mapping(upstream, umids)
  local ids = buffer_of(FINUBUF, FINUKEYS, upstream)
  for u in string.gmatch(umids, '[^,]+') do ids[#ids + 1] = u end
end

-- Values joined into chunks of `size`, pushed onto list `lk`.
local function push_chunks(lk, values, size, head)
  local chunks = {}
  for i = 1, #values, size do chunks[#chunks + 1] = head .. table.concat(values, ',', i, math.min(i + size - 1, #values)) end
  -- In chunks of chunks: unpack() of more than a few thousand values overflows Lua's C stack.
  for i = 1, #chunks, 1000 do redis.call('RPUSH', lk, unpack(chunks, i, math.min(i + 999, #chunks))) end
end

local function flush_final()
  if #FINBUF == 0 then return end
  local minute = math.ceil((NOW + FINAL_RET * 1000) / 60000)
  push_chunks(P .. 'fin:' .. minute, FINBUF, FIN_CHUNK, '')
  for _, up in ipairs(FINUKEYS) do push_chunks(P .. 'fu:' .. minute, FINUBUF[up], FIN_CHUNK, up .. '\n') end
  redis.call('ZADD', P .. 'timers', minute * 60000, 'F|' .. minute)
  FINBUF, FINUBUF, FINUKEYS = {}, {}, {}
end

local EV_CHUNK = 1000
local function flush_events()
  flush_queue()
  flush_final()
  flush_validity_groups()
  -- Up to EV_CHUNK rows an entry: unpack() of more than a few thousand values overflows Lua's C stack.
  for i = 1, #EVBUF, EV_CHUNK * 2 do
    redis.call('XADD', P .. 'ev', '*', unpack(EVBUF, i, math.min(i + EV_CHUNK * 2 - 1, #EVBUF)))
  end
  EVBUF = {}
  for acct, micros in pairs(RESBUF) do redis.call('DECRBY', P .. 'res:' .. acct, micros) end
  RESBUF = {}
  local step = DLR_CHUNK * DLR_PIECES
  for _, dk in ipairs(DLRKEYS) do
    local buf = DLRBUF[dk]
    -- From i + 1: an entry's first line has no newline before it.
    for i = 1, #buf, step do
      delivery_add(dk, 'k', 'rb', 'dd', NOW_S, 'b', table.concat(buf, '', i + 1, math.min(i + step - 1, #buf)))
    end
  end
  DLRBUF, DLRKEYS = {}, {}
end

-- A batch's freed maxConcurrent slot goes to its next waiting message (skipping cancelled or
-- expired ones): into the queue now, or at its paced send time.
local function release_next(batch)
  local list = P .. 'btw:' .. batch
  while true do
    local nid = redis.call('LPOP', list)
    if not nid then return end
    local nk = mkey(nid)
    local v = redis.call('HMGET', nk, 'st', 'k')
    if v[1] == 'scheduled' then
      local _, up, _, _, _, _, sa = core(nk, v[2])
      redis.call('HSET', nk, 'btn', 1)
      sa = tonumber(sa) or 0
      if sa > NOW then
        redis.call('ZADD', P .. 'timers', sa, 's|' .. nid)
      else
        redis.call('HSET', nk, 'st', 'queued')
        event(nid, 'queued', '', nil)
        enqueue(up, nid)
      end
      return
    end
  end
end

-- Billing at the final outcome --------------------------------------------------------------
-- The refund policy (config billing.refund), written by the router at start into {p}refund:
-- field "n:<status>" refunds a message that never left us, "s:<status>" one the upstream took,
-- "v" marks the hash as written. Without it (a store nobody started), a message that never left
-- is refunded whatever its outcome. Read once per script run.
local function refunds(sent, status)
  if not REFUND then
    REFUND = {}
    local flat = redis.call('HGETALL', P .. 'refund')
    if #flat == 0 then
      for _, s in ipairs({ 'failed', 'expired', 'rejected', 'cancelled' }) do REFUND['n:' .. s] = true end
    end
    for i = 1, #flat, 2 do REFUND[flat[i]] = true end
  end
  return REFUND[(sent and 's:' or 'n:') .. status] == true
end

-- The base of a message's event rows with its price column (the 9th, EVENT_ROW_COLUMNS) set to
-- micros: the final row carries what the message cost in the end, so ClickHouse sums a message's
-- billed price once by summing final rows.
local function with_price(base, micros)
  local head, rest = string.match(base, '^(' .. string.rep('[^\t]*\t', 8) .. ')[^\t]*(.*)$')
  if not head then return base end
  return head .. string.format('%d.%06d', math.floor(micros / 1000000), micros % 1000000) .. rest
end

-- What a message finally costs, and the balance settled to it: the reserved price (pr), or
-- nothing when the refund policy gives it back, or the price of the network the receipt named
-- (sp, note_network below; router/pricing.ts networkPrices) when that differs. Reserved money not charged goes back; a
-- dearer network is charged only as far as the balance goes (it never goes below zero).
-- sent: the upstream took the message (it was 'submitted').
local function settle(acct, sent, status, reserved, settled)
  local billed = reserved
  if status ~= 'delivered' and refunds(sent, status) then
    billed = 0
  elseif settled and sent then
    billed = settled
  end
  local back = reserved - billed
  local bk = P .. 'bal:' .. acct
  if back < 0 then
    local left = tonumber(redis.call('GET', bk) or '0')
    if -back > left then back, billed = -left, reserved + left end
  end
  if back ~= 0 then redis.call('INCRBY', bk, back) end
  if reserved > 0 then RESBUF[acct] = (RESBUF[acct] or 0) + reserved end
  return billed
end

-- A receipt named the network (MCC and MNC) that took the message: kept (field net, the webhook's
-- dlr.networkId), and when the rate card has a price for it (field nw, written at admission), that
-- price times the parts (np) is what the message costs (field sp, read by settle() in finalize()).
local function note_network(id, net, np)
  if not net or net == '' then return end
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'k')
  if not v[1] or FINAL[v[1]] then return end
  local nw = select(11, core(k, v[2]))
  redis.call('HSET', k, 'net', net)
  local part = nw and string.match(',' .. nw, ',' .. net .. ':(%d+)')
  if part then redis.call('HSET', k, 'sp', tonumber(part) * (tonumber(np) or 1)) end
end

-- Move a message to a final status once: state, event, receipt owed to the ESME, webhook, refund.
-- err: Catalyst/SMPP error code ('' none); stat: receipt stat (nil → from status); derr: 3-digit receipt err.
local function finalize(id, status, err, stat, derr, umid)
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'k', 'ra', 'xg', 'eb', 'seq', 'oc', 'sb')
  local st = v[1]
  if not st or FINAL[st] then return false end
  local ra, xg, eb, seq, oc = v[3], v[4], v[5], v[6], v[7]
  -- Upstream ids only once submitted (their mappings go with the hash).
  local umids
  if v[8] or st == 'submitted' then umids = sent(k, v[8]) end
  local acct, up, pr, _, t0, bt, _, rd, currency, cp, nw, wh = core(k, v[2])
  -- Fields most messages never have are read only where the core says they can be: a field the
  -- hash lacks costs HMGET a scan of the whole hash (bench:redis-scripts). btn (a batch's
  -- maxConcurrent slot held) only in a batch (bt); sp (the receipt's network's price, note_network)
  -- only with network prices (nw); net only for the webhook, which reads it with the payload.
  local btn, sp
  if present(bt) or present(nw) then
    local x = redis.call('HMGET', k, 'btn', 'sp')
    btn, sp = x[1], x[2]
  end
  stat = stat or STAT_OF[status]
  derr = derr or '000'
  local reserved = tonumber(pr) or 0
  local billed = settle(acct, st == 'submitted', status, reserved, tonumber(sp))
  if present(eb) then event_row(id, billed == reserved and eb or with_price(eb, billed), seq, status, err, umid) end
  -- Hot state only: a final message keeps what status queries need, for FINAL_RET (flush_final);
  -- its history is in ClickHouse, so its event base (eb), validity group (xg) and receipt
  -- addressing (ra: it travels in the delivery entry below; a final hash and its upstream id's
  -- mapping keep 720 bytes instead of 848, bench:redis-scripts) are emptied here (in the same
  -- HSET: an HDEL is one more call a message). Its event count (seq) is not written: the final
  -- row is its last (event() writes none once eb is empty), and every field costs the write.
  redis.call('HSET', k, 'st', status, 'o', outcome_of(err or '', stat, derr, billed == reserved and '' or num(billed)), 'eb', '', 'xg', '', 'ra', '')
  if present(xg) then leave_validity_group(xg) else redis.call('ZREM', P .. 'timers', 'x|' .. id) end
  FINBUF[#FINBUF + 1] = id
  if present(umids) and present(up) then forget_mapping(up, umids) end
  -- An attempt of an orchestration chain ("<chain>|<attempt>", set by orch_sent.lua) tells its chain
  -- (router/orchestrator.ts reads {p}orn) what it cost (billed, settle() above); other messages pay
  -- one more HMGET field, nothing else.
  if oc then
    local chain, n = string.match(oc, '^(.+)|(%d+)$')
    redis.call('XADD', P .. 'orn', '*', 'k', 'f', 'c', chain, 'n', n, 'i', id, 's', status, 'e', err or '', 'p', billed)
  end
  -- A campaign's message: its final count (progress, and its maxConcurrent slot freed; campaign_claim.lua).
  if present(cp) then
    local ck = P .. 'cp:' .. cp
    redis.call('HINCRBY', ck, 'fin', 1)
    redis.call('HINCRBY', ck, 'f_' .. status, 1)
  end
  if btn then
    redis.call('HDEL', k, 'btn')
    release_next(bt)
  end
  -- registered_delivery: 1 = receipt on any outcome, 2 = on failure only (SMPP 3.4 §5.2.17).
  if rd == '1' or (rd == '2' and status ~= 'delivered') then
    -- A message that came in by XMPP owes its receipt to the XMPP door of the account, not to its
    -- SMPP binds (keys.ts): its addressing's layout is 2 (store/redis/stored-message.ts
    -- packAddressing), or the object written before names the sender's JID under "x".
    local dk = P .. 'd:' .. acct
    if ra and (string.sub(ra, 1, 3) == '[2,' or string.find(ra, '"x":', 1, true)) then dk = dk .. '/xmpp' end
    -- Written by flush_events(), which every script that can finalize calls before it returns.
    local buf = buffer_of(DLRBUF, DLRKEYS, dk)
    local n = #buf
    buf[n + 1], buf[n + 2], buf[n + 3], buf[n + 4], buf[n + 5] = '\n', id, '\t', stat, '\t'
    buf[n + 6], buf[n + 7], buf[n + 8], buf[n + 9], buf[n + 10] = derr, '\t', present(t0) and t0 or NOW_S, '\t', present(ra) and ra or '{}'
  end
  if present(wh) then
    -- The final-state webhook joins the message's ordered list (webhook_enqueue.lua, router/webhooks.ts)
    -- with what its body needs, since the state above expires before the last retry may be due.
    local jn = redis.call('HMGET', k, 'j', 'net')
    local net = jn[2]
    local m = message_fields(jn[1])
    if redis.call('RPUSH', P .. 'whq:' .. id, cjson.encode({ d = id .. ':final', k = 'final', a = acct, u = wh, t = NOW,
        ch = m.channel, st = status, err = err or '', dlr = stat, dle = derr, pr = billed, cur = currency or nil, up = up or nil,
        rc = m.rateCardId, oid = m.orchestrationId, nid = net or nil, fmt = m.webhookFormat, ref = m.clientRef })) == 1 then
      redis.call('XADD', P .. 'wh', '*', 'i', id)
    end
    redis.call('INCR', P .. 'whn')
  end
  return true
end

-- A message that has not left (queued or scheduled; `st` its status as the caller read it) is
-- cancelled: its send and retry timers go and it is finalized. The one rule for cancel_sm and the
-- API's cancel (cancel.lua) and an orchestration chain giving up a step (orch_common.lua,
-- orch_sent.lua). Returns true when it cancelled; the caller flushes the run's events.
local function cancel_unsent(id, st)
  if st ~= 'queued' and st ~= 'scheduled' then return false end
  redis.call('ZREM', P .. 'timers', 's|' .. id, 'r|' .. id)
  finalize(id, 'cancelled', 'CANCELLED', 'DELETED', '000', nil)
  return true
end

-- One part's final receipt. A message is final when every part has one: delivered if all were
-- DELIVRD, otherwise the first failing part's stat decides. Duplicate receipts change nothing.
-- Returns the final status when this receipt made the message final, else nil.
local PF_STATUS = { EXPIRED = 'expired', REJECTD = 'rejected', DELETED = 'cancelled' }
-- np: the message's parts count when the caller knows it ('' or nil when not).
local function apply_receipt(id, part, stat, derr, np)
  if np == '1' then
    -- One part: its receipt is the message's, and finalize() ignores a duplicate.
    local status, err = 'delivered', ''
    if stat ~= 'DELIVRD' then status, err = PF_STATUS[stat] or 'failed', 'DLR_' .. stat else derr = '000' end
    if not finalize(id, status, err, stat, derr, nil) then return nil end
    return status
  end
  -- One read and one write a part. A message that is final, or whose hash is gone (a late
  -- receipt after its retention), is left alone: nothing is written to a key that no longer exists.
  local k = mkey(id)
  local v = redis.call('HMGET', k, 'st', 'p' .. part, 'pd', 'pf', 'pfe')
  if not v[1] or FINAL[v[1]] or v[2] then return nil end
  local done = (tonumber(v[3]) or 0) + 1
  local pf, pfe = v[4], v[5]
  -- The parts count as the mapping gave it, else (a mapping written before it carried the count)
  -- as submitted.lua recorded it.
  local parts = tonumber(np)
  if not parts then
    local _, recorded = sent(k, redis.call('HGET', k, 'sb'))
    parts = tonumber(recorded) or 1
  end
  if stat ~= 'DELIVRD' and not pf then
    -- The first failing part decides the outcome.
    pf, pfe = stat, derr
    redis.call('HSET', k, 'p' .. part, stat, 'pd', num(done), 'pf', pf, 'pfe', pfe)
  else
    redis.call('HSET', k, 'p' .. part, stat, 'pd', num(done))
  end
  if done < parts then return nil end
  local status = 'delivered'
  if not pf then
    if not finalize(id, status, '', 'DELIVRD', '000', nil) then return nil end
  else
    status = PF_STATUS[pf] or 'failed'
    if not finalize(id, status, 'DLR_' .. pf, pf, pfe or '000', nil) then return nil end
  end
  return status
end
