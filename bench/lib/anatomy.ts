/**
 * What the benches by elimination (admit-anatomy, receipts-anatomy) share: every variant run
 * `repeats` times in turn, so drift on a shared machine shows as a spread rather than as a
 * difference, then each variant's median and what taking its part out saves against the whole
 * script (the variant named `script`), written to bench/results/ and printed.
 */
import { environment, writeResult } from './report.js';

export interface AnatomyVariant {
  readonly name: string;
  readonly what: string;
}

export interface AnatomyOptions<V extends AnatomyVariant> {
  /** The bench's name: its npm script (bench:<name>) and its results file. */
  readonly bench: string;
  readonly variants: readonly V[];
  readonly repeats: number;
  /** The variant's script, or undefined when the statement it cuts is gone (it is reported, not run). */
  readonly source: (v: V) => string | undefined;
  /** Redis CPU per message of one run of a variant's script. */
  readonly measure: (source: string) => Promise<number>;
  /** Where a variant's statement was looked for, for the report of one that is gone. */
  readonly lookedIn: string;
  /** Messages a script call (BENCH_BATCH) and calls a run (BENCH_ROUNDS), written into the result with the command that repeats it. */
  readonly batch: number;
  readonly rounds: number;
  /** The summary line's words before the whole script's figure, e.g. "admit.lua costs Redis". */
  readonly costs: string;
  /** What the figure is per, e.g. "a message". */
  readonly per: string;
}

export async function runAnatomy<V extends AnatomyVariant>(o: AnatomyOptions<V>): Promise<void> {
  const runs = new Map<string, number[]>();
  for (let r = 0; r < o.repeats; r++) {
    for (const v of o.variants) {
      const source = o.source(v);
      if (source === undefined) continue;
      const list = runs.get(v.name) ?? [];
      list.push(Math.round((await o.measure(source)) * 10) / 10);
      runs.set(v.name, list);
    }
  }
  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const whole = median(runs.get('script') ?? []);
  const parts = o.variants.map((v) => {
    const xs = runs.get(v.name);
    if (!xs) return { variant: v.name, what: v.what, missing: `its statement is no longer in ${o.lookedIn}` };
    const m = median(xs);
    return { variant: v.name, what: v.what, redisCpuMicrosPerMessage: xs, median: m, ...(v.name === 'script' ? {} : { partCostsMicros: Math.round((whole - m) * 10) / 10 }) };
  });
  const command = `BENCH_BATCH=${o.batch} BENCH_ROUNDS=${o.rounds} BENCH_REPEATS=${o.repeats} npm run bench:${o.bench}`;
  const result = { bench: o.bench, ...environment(), batch: o.batch, rounds: o.rounds, repeats: o.repeats, parts, command };
  const path = writeResult(o.bench, result);
  console.log(JSON.stringify(result, null, 2));
  const line = parts
    .filter((p) => 'partCostsMicros' in p)
    .map((p) => `${p.variant} saves ${(p as { partCostsMicros: number }).partCostsMicros}`)
    .join(', ');
  const missing = parts.filter((p) => 'missing' in p).map((p) => p.variant);
  const gone = missing.length > 0 ? `; not run (statement gone): ${missing.join(', ')}` : '';
  console.log(`${o.bench}: ${o.costs} ${whole} µs of CPU ${o.per} (median of ${o.repeats}); taking a part out: ${line}${gone} → ${path}`);
}
