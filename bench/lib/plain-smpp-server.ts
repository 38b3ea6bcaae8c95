/**
 * The floor the SMPP ingress bench compares Catalyst against: a plain SMSC built on the `smpp` npm
 * package, alone in its process, that accepts any transceiver bind and answers every submit_sm
 * with a submit_sm_resp carrying a counter as message id. No auth, no validation, no storage: what
 * is left is the cost of SMPP framing and PDU parsing in Node with the package most Node SMPP
 * servers are built on.
 *
 *   node --import tsx bench/lib/plain-smpp-server.ts PORT
 */
import smpp from 'smpp';

interface PlainPdu {
  readonly command: string;
  response(fields?: Record<string, unknown>): PlainPdu;
}

interface PlainSession {
  on(event: string, fn: (pdu: PlainPdu) => void): void;
  send(pdu: PlainPdu): boolean;
  close(): void;
}

interface PlainServer {
  listen(port: number, host: string, cb: () => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
}

const createServer = (smpp as { createServer: (listener: (session: PlainSession) => void) => PlainServer }).createServer;

const port = Number(process.argv[2] ?? 0);
let seq = 0;

const server = createServer((session) => {
  session.on('error', () => undefined);
  session.on('bind_transceiver', (pdu) => {
    session.send(pdu.response({ system_id: 'plain' }));
  });
  session.on('submit_sm', (pdu) => {
    seq++;
    session.send(pdu.response({ message_id: `PLAIN${seq.toString(16).padStart(11, '0')}` }));
  });
  session.on('enquire_link', (pdu) => {
    session.send(pdu.response());
  });
  session.on('deliver_sm_resp', () => undefined);
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
});

server.on('error', (err) => {
  process.stderr.write(`plain-smpp-server: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => undefined);
process.on('SIGTERM', () => {
  process.exit(0);
});
