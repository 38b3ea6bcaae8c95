-- queue_ack: send-queue entries a dispatcher is done with (common.lua ack_entries).
-- in:  ARGV[4] upstream, [5] count, then per entry (stride 3): entry id, messages that left the
--      queue (settled), ids to queue again in a new entry (joined by ','; '' none)
-- out: messages that left the queue
return ack_entries(ARGV[4], 6, tonumber(ARGV[5]))
