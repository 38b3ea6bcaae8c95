/**
 * The floor the HTTP bench compares Catalyst against: a bare uWebSockets.js server, alone in its
 * process, that reads the body of POST /api/v2/messages/sms, parses the same JSON, checks the two
 * fields a send needs and answers a 202 of the same shape as Catalyst's, corked into one write.
 * No auth, no validation library, no Redis: what is left is the cost of HTTP and JSON in Node.
 *
 *   node --import tsx bench/lib/bare-uws.ts PORT
 */
import uWS from 'uWebSockets.js';

const port = Number(process.argv[2] ?? 0);
let seq = 0;

const app = uWS.App().post('/api/v2/messages/sms', (res, req) => {
  const contentType = req.getHeader('content-type');
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const chunks: Buffer[] = [];
  res.onData((ab, isLast) => {
    // uWS reuses the ArrayBuffer after this callback: copy, as app.ts does.
    chunks.push(Buffer.from(new Uint8Array(ab).slice()));
    if (!isLast || aborted) return;
    let status = '202 Accepted';
    let body: string;
    try {
      if (!contentType.startsWith('application/json')) throw new Error('not json');
      const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { to?: unknown; message?: { body?: unknown } };
      if (typeof r.to !== 'string' || typeof r.message?.body !== 'string') throw new Error('invalid');
      seq++;
      body = JSON.stringify({
        message_id: `BARE${String(seq).padStart(22, '0')}`,
        external_id: null,
        status: 'submitted',
        timestamp: new Date().toISOString(),
        channel: 'sms',
        estimated_cost: 0.0001,
        currency: 'USD',
        parts: 1,
      });
    } catch (err) {
      status = '400 Bad Request';
      body = JSON.stringify({ error: { code: 'VALIDATION_ERROR', message: (err as Error).message, retryable: false } });
    }
    res.cork(() => {
      res.writeStatus(status).writeHeader('content-type', 'application/json').end(body);
    });
  });
});

app.listen('127.0.0.1', port, (token) => {
  if (!token) {
    process.stderr.write(`bare-uws: cannot listen on ${port}\n`);
    process.exit(1);
  }
});
process.on('SIGTERM', () => {
  process.exit(0);
});
