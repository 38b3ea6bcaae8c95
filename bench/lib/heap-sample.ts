/**
 * A preload for the appliance under a bench: samples where its allocations come from, collected
 * objects included (what `--heap-prof` leaves out, and what the scavenger pays for), from
 * HEAPSAMPLE_DELAY_MS after start (default 3000: past the warm-up) until it exits, and writes the
 * profile to HEAPSAMPLE_DIR (default /tmp) as heap-<pid>.heapprofile. Sum it with
 * bench/heap-summary.ts.
 *
 *   BENCH_APP_NODE_ARGS="--import tsx --import ./bench/lib/heap-sample.ts" BENCH_SECONDS=10 npm run bench:smpp-ingress
 *   node --import tsx bench/heap-summary.ts /tmp/heap-<pid>.heapprofile
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const session = new Session();
session.connect();
session.post('HeapProfiler.enable');
setTimeout(() => {
  session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}, Number(process.env['HEAPSAMPLE_DELAY_MS'] ?? 3000)).unref();

let written = false;
function write(): void {
  if (written) return;
  written = true;
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err === null) writeFileSync(join(process.env['HEAPSAMPLE_DIR'] ?? '/tmp', `heap-${String(process.pid)}.heapprofile`), JSON.stringify(r.profile));
  });
}
// The bench stops the appliance with SIGTERM; the appliance's own handler drains it meanwhile.
process.once('SIGTERM', write);
process.once('exit', write);
