import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TallyCounter, TallyGauge, TallyHistogram, createMetrics } from '../../../src/core/metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The same figures through prom-client's own kinds, for the exposition to match. */
function reference(): { registry: Registry; counter: Counter<'k'>; gauge: Gauge<'k'>; histogram: Histogram<'k'> } {
  const registry = new Registry();
  const r = [registry];
  return {
    registry,
    counter: new Counter({ name: 't_total', help: 'a counter', labelNames: ['k'], registers: r }),
    gauge: new Gauge({ name: 't_gauge', help: 'a gauge', labelNames: ['k'], registers: r }),
    histogram: new Histogram({ name: 't_seconds', help: 'a histogram', labelNames: ['k'], buckets: BUCKETS, registers: r }),
  };
}

function tallied(): { registry: Registry; counter: TallyCounter<'k'>; gauge: TallyGauge<'k'>; histogram: TallyHistogram<'k'> } {
  const registry = new Registry();
  const r = [registry];
  return {
    registry,
    counter: new TallyCounter({ name: 't_total', help: 'a counter', labelNames: ['k'], registers: r }),
    gauge: new TallyGauge({ name: 't_gauge', help: 'a gauge', labelNames: ['k'], registers: r }),
    histogram: new TallyHistogram({ name: 't_seconds', help: 'a histogram', labelNames: ['k'], buckets: BUCKETS, registers: r }),
  };
}

const OBSERVED = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.5, 3, 7.25];

describe('tallied metrics', () => {
  it('read exactly as prom-client reads the same figures', async () => {
    const a = reference();
    const b = tallied();
    a.counter.inc({ k: 'x' });
    a.counter.inc({ k: 'x' }, 4);
    a.counter.inc({ k: 'y' }, 2);
    b.counter.inc({ k: 'x' });
    b.counter.labels({ k: 'x' }).inc(4);
    b.counter.inc({ k: 'y' }, 2);
    a.gauge.inc({ k: 'x' }, 3);
    a.gauge.dec({ k: 'x' });
    b.gauge.inc({ k: 'x' }, 2);
    const held = b.gauge.labels({ k: 'x' });
    held.inc();
    held.dec();
    a.gauge.set({ k: 'z' }, 7);
    b.gauge.set({ k: 'z' }, 3);
    b.gauge.set({ k: 'z' }, 7);
    for (const v of OBSERVED) {
      a.histogram.observe({ k: 'x' }, v);
      b.histogram.observe({ k: 'x' }, v);
    }
    a.histogram.observe({ k: 'y' }, 0.01);
    b.histogram.labels({ k: 'y' }).observe(0.01);
    expect(await b.registry.metrics()).toBe(await a.registry.metrics());
  });

  it('keep each label set apart, however many labels', async () => {
    const registry = new Registry();
    const c = new TallyCounter({ name: 'two_total', help: 'two labels', labelNames: ['a', 'b'], registers: [registry] });
    c.inc({ a: 'x', b: 'y' });
    c.inc({ a: 'x', b: 'z' }, 2);
    c.inc({ a: 'w', b: 'y' }, 3);
    c.labels({ a: 'x', b: 'y' }).inc(4);
    const text = await registry.metrics();
    expect(text).toContain('two_total{a="x",b="y"} 5');
    expect(text).toContain('two_total{a="x",b="z"} 2');
    expect(text).toContain('two_total{a="w",b="y"} 3');
  });

  it('keep counting across reads, and a counter never goes back', async () => {
    const b = tallied();
    b.counter.inc({ k: 'x' }, 2);
    expect(await b.registry.getSingleMetricAsString('t_total')).toContain('t_total{k="x"} 2');
    b.counter.inc({ k: 'x' }, 3);
    expect(() => { b.counter.inc({ k: 'x' }, -1); }).toThrow(RangeError);
    expect(() => { b.counter.inc({ k: 'x' }, Number.NaN); }).toThrow(RangeError);
    expect(() => { b.counter.labels({ k: 'x' }).inc(-1); }).toThrow(RangeError);
    expect(await b.registry.getSingleMetricAsString('t_total')).toContain('t_total{k="x"} 5');
    expect(await b.registry.getSingleMetricAsString('t_total')).toContain('t_total{k="x"} 5');
    b.gauge.inc({ k: 'x' }, 2);
    expect(await b.registry.getSingleMetricAsString('t_gauge')).toContain('t_gauge{k="x"} 2');
    b.gauge.dec({ k: 'x' }, 2);
    expect(await b.registry.getSingleMetricAsString('t_gauge')).toContain('t_gauge{k="x"} 0');
  });

  it('are summed across a cluster’s workers like prom-client’s', async () => {
    const workers = [tallied(), tallied()];
    const refs = [reference(), reference()];
    workers.forEach((w, i) => {
      w.counter.inc({ k: 'x' }, i + 1);
      w.histogram.observe({ k: 'x' }, 0.05 * (i + 1));
    });
    refs.forEach((w, i) => {
      w.counter.inc({ k: 'x' }, i + 1);
      w.histogram.observe({ k: 'x' }, 0.05 * (i + 1));
    });
    const ours = AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())));
    const theirs = AggregatorRegistry.aggregate(await Promise.all(refs.map((w) => w.registry.getMetricsAsJSON())));
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('t_seconds_count{k="x"} 2');
  });

  it('a histogram takes prom-client’s unlabelled form, ignores what is not a number, and resets with its registry', async () => {
    const registry = new Registry();
    const h = new TallyHistogram({ name: 'u_seconds', help: 'h', buckets: BUCKETS, registers: [registry] });
    h.observe(0.2);
    h.observe(Number.NaN);
    expect(await registry.metrics()).toContain('u_seconds_count 1');
    expect(await registry.metrics()).toContain('u_seconds_bucket{le="1"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('u_seconds_count');
  });

  it('the appliance’s registry exposes the tallied ones under their names', async () => {
    const m = createMetrics();
    m.smppSubmitSeconds.observe(0.004);
    m.smppPdusIn.inc({ command: 'submit_sm' });
    m.smppWindow.labels({ system_id: 'esme' }).inc();
    m.admissionPending.set(12);
    const text = await m.registry.metrics();
    expect(text).toContain('smpp_submit_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('smpp_pdus_in_total{command="submit_sm"} 1');
    expect(text).toContain('smpp_window_inflight{system_id="esme"} 1');
    expect(text).toContain('router_admission_pending 12');
  });
});
