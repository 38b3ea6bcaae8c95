/**
 * Sums a heap sampling profile (bench/lib/heap-sample.ts) by the function that allocated: the
 * share of the sampled bytes each made, the largest first.
 *
 *   node --import tsx bench/heap-summary.ts /tmp/heap-<pid>.heapprofile [rows]
 */
import { readFileSync } from 'node:fs';

interface Node {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly Node[];
}

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: node --import tsx bench/heap-summary.ts <file.heapprofile> [rows]');
  process.exit(2);
}
const rows = Number(process.argv[3] ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };

const bySite = new Map<string, number>();
let total = 0;
const stack: Node[] = [profile.head];
for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
  const f = n.callFrame;
  const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${String(f.lineNumber + 1)}`;
  total += n.selfSize;
  if (n.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
  stack.push(...n.children);
}

console.log(`${(total / 1e6).toFixed(1)} MB sampled (${file})`);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
  console.log(`${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${site}`);
}
