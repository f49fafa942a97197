/**
 * Unknown is not healthy: the sidecar against a real Prometheus (two simulated days, the last
 * 8 h critical) through a fault proxy. Data that goes missing, partial, stale or bad never
 * lowers a server's risk: the server keeps its last good forecasts and risk marked stale
 * (foresight_instance_stale 1), then becomes unknown; slow and oversized answers end at their
 * limits and are counted; bad values are dropped, counted and never published.
 *
 * The clock is driven and cycles are run by hand (the configured interval is an hour), so each
 * test reads exactly the windows it sets up.
 */
import path from 'node:path';
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle, SimulatedHistory } from './harness/prometheus';
import { forEveryRange, forQuery, mapValues, startFaultProxy } from './harness/fault-proxy';
import type { FaultProxy } from './harness/fault-proxy';
import { freePort } from './harness/processes';
import { parseExposition } from './harness/exposition';
import type { Sample } from './harness/exposition';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { METRICS } from '../src/source/promql';
import { PrometheusSource } from '../src/source/prometheus';
import { SourceError } from '../src/source/source';
import { ConfigSchema } from '../src/config/schema';
import { METRIC_NAMES } from '../src/profiles/profiles';
import { waitFor } from './harness/processes';
import { PERCENT_METRICS } from '../src/profiles/profiles';
import type { MetricName } from '../src/profiles/profiles';
import { readFileSync } from 'node:fs';

/** Reads per metric and cycle of the shipped model: the day at 5 minutes, and for a contract-2 model also the week at 1 h (each refused read counts once). */
const READS_PER_METRIC =
  (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'models', 'foresight-tft', 'model.json'), 'utf8')) as { contract_version?: number })
    .contract_version === 2
    ? 2
    : 1;

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const HOUR = 3600;
const STEP = 300;

interface Scrape {
  readonly text: string;
  readonly samples: Sample[];
  /** Value of a series for an instance (first match of the extra labels). */
  value(name: string, instance: string, labels?: Record<string, string>): number | undefined;
  /** Sum of a counter's samples matching the labels. */
  count(name: string, labels: Record<string, string>): number;
  /** How many samples of a series match the labels. */
  series(name: string, labels?: Record<string, string>): number;
}

const matches = (s: Sample, labels: Record<string, string>): boolean => Object.entries(labels).every(([k, v]) => s.labels[k] === v);

async function scrape(app: App): Promise<Scrape> {
  const text = await (await fetch(`${app.address()}/metrics`)).text();
  const samples = parseExposition(text);
  return {
    text,
    samples,
    value: (name, instance, labels = {}) => samples.find((s) => s.name === name && s.labels['instance'] === instance && matches(s, labels))?.value,
    count: (name, labels) => samples.filter((s) => s.name === name && matches(s, labels)).reduce((a, s) => a + s.value, 0),
    series: (name, labels = {}) => samples.filter((s) => s.name === name && matches(s, labels)).length,
  };
}

interface FleetInstance {
  instance: string;
  state: string;
  stale: boolean;
  dataAt: number | null;
  score?: number;
  level?: number;
}

async function fleet(app: App): Promise<Map<string, FleetInstance>> {
  const body = (await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as { instances: FleetInstance[] };
  return new Map(body.instances.map((i) => [i.instance, i]));
}

/** Per instance: risk score, severity level and every forecast value, as published. */
function published(s: Scrape, instance: string): { score: number | undefined; level: number | undefined; forecasts: string[]; values: string[] } {
  const of = (name: string): string[] =>
    s.samples
      .filter((x) => x.name === name && x.labels['instance'] === instance)
      .map((x) => `${JSON.stringify(x.labels)} ${x.value}`)
      .sort();
  return {
    score: s.value('foresight_risk_score', instance),
    level: s.value('foresight_severity_level', instance),
    forecasts: of('foresight_forecast'),
    values: of('foresight_metric_value'),
  };
}

describeWith(['prometheus', 'promtool'])('sidecar under data faults (real Prometheus behind a fault proxy)', () => {
  let h: SimulatedHistory;
  let prom: PrometheusHandle;
  let proxy: FaultProxy;
  let app: App;
  let t: number;
  let t0: number;
  let instances: string[];
  let worst: string;
  let baseline: Scrape;

  const cycleAt = async (at: number): Promise<Scrape> => {
    t = at;
    await app.runCycle();
    return scrape(app);
  };
  /** Back to clean answers at t0: every server fresh again. */
  const fresh = async (): Promise<Scrape> => {
    proxy.setRules([]);
    const s = await cycleAt(t0);
    expect(s.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(1);
    expect(s.count('foresight_instance_stale', {})).toBe(0);
    return s;
  };

  beforeAll(async () => {
    // the same cached two days as sidecar.prometheus.test.ts (healthy, then critical for the last 8 h)
    h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,40h:critical',
      incidents: 4,
      incidentsWindow: [3 * HOUR, 34 * HOUR],
    });
    prom = await startPrometheus({ blocksDir: h.blocksDir });
    proxy = await startFaultProxy(prom.url);
    const loaded = await parseConfig(
      {
        listen: `127.0.0.1:${await freePort()}`,
        source: {
          type: 'prometheus',
          interval: '1h',
          keep_stale: '10m',
          forget_after: '1h',
          // generous limits: a loaded test machine must not turn a clean answer into a timeout
          prometheus: { url: proxy.url, timeout: '15s', deadline: '20s', retries: 0, max_answer_size: '8MiB', max_instances: 25 },
        },
        profiles: { label_query: '' },
        model: { path: path.join(REPO, 'models', 'foresight-tft'), device: 'cpu' },
      },
      'test config',
    );
    // windows end an hour before the history does, so the clock can move on with data behind it
    t0 = h.end - HOUR;
    t = t0;
    app = createApp({ loaded, repoRoot: REPO, now: () => t, log: () => undefined });
    await app.start();
    baseline = await scrape(app);
    instances = h.sim.servers.map((s) => s.instance).sort();
    // the riskiest server: the one a gap would most wrongly call healthy
    worst = instances.reduce((a, b) => ((baseline.value('foresight_risk_score', b) ?? 0) > (baseline.value('foresight_risk_score', a) ?? 0) ? b : a));
  });
  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await prom?.stop();
    await removeTempDirs();
  });

  test('when every answer is clean, then every server is fresh, scored and published with stale 0 and unknown 0', async () => {
    expect(baseline.series('foresight_instance_stale')).toBe(20);
    expect(baseline.count('foresight_instance_stale', {})).toBe(0);
    expect(baseline.count('foresight_instance_unknown', {})).toBe(0);
    expect(baseline.series('foresight_forecast')).toBe(20 * 6 * 1 * 3);
    // the worst server is at danger or worse: what must never turn healthy for lack of data
    expect(baseline.value('foresight_severity_level', worst)).toBeGreaterThanOrEqual(4);
    expect([...(await fleet(app)).values()].every((i) => i.state === 'fresh' && !i.stale)).toBe(true);
  });

  test.each([10, 15, 30])(
    'when the last %i minutes are missing for one server, then it keeps its last good risk and forecasts, marked stale; the others stay fresh',
    async (minutes) => {
      const before = await fresh();
      const cutoff = t0 - minutes * 60 + STEP; // Prometheus' 5-minute lookback carries the last sample one step
      proxy.setRules([
        forEveryRange({ kind: 'rewrite', rewrite: (a) => mapValues(a, (labels, time, v) => (labels['instance'] === worst && time > cutoff ? undefined : v)) }),
      ]);
      const s = await cycleAt(t0);
      expect(published(s, worst)).toEqual(published(before, worst));
      expect(s.value('foresight_instance_stale', worst)).toBe(1);
      expect(s.value('foresight_instance_unknown', worst)).toBe(0);
      expect(s.count('foresight_instance_stale', {})).toBe(1);
      expect(s.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(1);
      const f = (await fleet(app)).get(worst)!;
      expect({ state: f.state, stale: f.stale, dataAt: f.dataAt, score: f.score }).toEqual({
        state: 'stale',
        stale: true,
        dataAt: t0,
        score: before.value('foresight_risk_score', worst),
      });
    },
  );

  test('when the memory query fails (HTTP 500), then the memory series are kept for every server, marked stale, and source_up is 0', async () => {
    const before = await fresh();
    const errors = before.count('foresight_errors_total', { stage: 'source', reason: 'http_5xx' });
    proxy.setRules([forQuery(METRICS.memory.expr, { kind: 'status', status: 500 })]);
    const s = await cycleAt(t0);
    expect(s.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(0);
    expect(s.count('foresight_errors_total', { stage: 'source', reason: 'http_5xx' })).toBe(errors + READS_PER_METRIC);
    expect(s.series('foresight_forecast', { metric: 'memory' })).toBe(20 * 1 * 3);
    expect(s.series('foresight_metric_value', { metric: 'memory' })).toBe(before.series('foresight_metric_value', { metric: 'memory' }));
    for (const i of instances) {
      expect({ i, ...published(s, i) }).toEqual({ i, ...published(before, i) });
      expect(s.value('foresight_instance_stale', i)).toBe(1);
    }
  });

  test('when every value is NaN, then they are counted as dropped and every server keeps its last good risk, marked stale', async () => {
    const before = await fresh();
    const dropped = before.count('foresight_samples_dropped_total', { reason: 'non_finite' });
    proxy.setRules([forEveryRange({ kind: 'rewrite', rewrite: (a) => mapValues(a, () => 'NaN') })]);
    const s = await cycleAt(t0);
    expect(s.count('foresight_samples_dropped_total', { reason: 'non_finite' })).toBeGreaterThan(dropped + 20 * 6 * 200);
    expect(s.count('foresight_instance_stale', {})).toBe(20);
    for (const i of instances) expect({ i, ...published(s, i) }).toEqual({ i, ...published(before, i) });
    expect(s.text).not.toMatch(/\bNaN\b/);
  });

  test('when a server vanishes from the answers, then its series stay (stale), then it is unknown: no score or forecast, its last level kept', async () => {
    const before = await fresh();
    proxy.setRules([
      forEveryRange({ kind: 'rewrite', rewrite: (a) => ({ ...a, data: { ...a.data, result: a.data.result.filter((r) => r.metric['instance'] !== worst) } }) }),
    ]);
    const stale = await cycleAt(t0 + STEP);
    expect(published(stale, worst)).toEqual(published(before, worst));
    expect([stale.value('foresight_instance_stale', worst), stale.value('foresight_instance_unknown', worst)]).toEqual([1, 0]);
    // keep_stale is 10m in this config: 15 minutes after its last good data it is unknown
    const unknown = await cycleAt(t0 + 3 * STEP);
    expect([unknown.value('foresight_instance_stale', worst), unknown.value('foresight_instance_unknown', worst)]).toEqual([1, 1]);
    expect(published(unknown, worst)).toEqual({ score: undefined, level: before.value('foresight_severity_level', worst), forecasts: [], values: [] });
    expect(unknown.value('foresight_instance_ready', worst)).toBeUndefined();
    const f = (await fleet(app)).get(worst)!;
    expect({ state: f.state, score: f.score, level: f.level, dataAt: f.dataAt }).toEqual({
      state: 'unknown',
      score: undefined,
      level: before.value('foresight_severity_level', worst),
      dataAt: t0,
    });
    // everyone else read fresh data at the later windows
    expect(unknown.count('foresight_instance_stale', {})).toBe(1);
  });

  test('when an answer drips one byte per second, then the cycle ends at its deadline with reason timeout, source_up 0, and memory kept stale', async () => {
    const before = await fresh();
    const timeouts = before.count('foresight_errors_total', { stage: 'source', reason: 'timeout' });
    proxy.setRules([forQuery(METRICS.memory.expr, { kind: 'drip' })]);
    const s = await cycleAt(t0);
    expect(s.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(0);
    expect(s.count('foresight_errors_total', { stage: 'source', reason: 'timeout' })).toBe(timeouts + READS_PER_METRIC);
    expect(s.series('foresight_forecast', { metric: 'memory' })).toBe(20 * 1 * 3);
    expect(s.count('foresight_instance_stale', {})).toBe(20);
  });

  test('when a read is stuck and the source is aborted (reload, shutdown), then the read ends at once with reason aborted', async () => {
    // limits far away: only abort() can end this read in time
    const config = ConfigSchema.parse({ source: { type: 'prometheus', prometheus: { url: proxy.url, timeout: '10m', deadline: '10m', retries: 0 } } }).source
      .prometheus!;
    const source = new PrometheusSource({
      config,
      secrets: {},
      queries: Object.fromEntries(METRIC_NAMES.map((m) => [m, METRICS[m].expr])) as Record<MetricName, string>,
    });
    proxy.setRules([forEveryRange({ kind: 'drip' })]);
    const drips = proxy.injected.drip;
    try {
      const read = source.fetch(t0, 288, STEP).catch((e: unknown) => e);
      await waitFor('the six dripping answers to start', () => Promise.resolve(proxy.injected.drip >= drips + 6 ? true : undefined), 30_000, 50);
      source.abort('shutdown');
      const e = await read;
      expect(e).toBeInstanceOf(SourceError);
      expect({ reason: (e as SourceError).reason, message: (e as SourceError).message }).toEqual({
        reason: 'aborted',
        message: `${proxy.url}: read aborted (shutdown)`,
      });
    } finally {
      source.close();
    }
  });

  test('when values are out of range or junk, then they are dropped by reason, never published, and a dropped last point leaves the server stale, not rescored', async () => {
    const before = await fresh();
    const d = (metric: MetricName, reason: string): number => before.count('foresight_samples_dropped_total', { metric, reason });
    const counts = { mem: d('memory', 'out_of_range'), cpu: d('cpu', 'invalid'), load: d('load', 'out_of_range'), net: d('network', 'out_of_range') };
    const junk = ['', 'null', 'true', '0x10'];
    proxy.setRules([
      // every server's latest memory reads 250 %: a bogus value that once scored the fleet imminent
      forQuery(METRICS.memory.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i, n) => (i === n - 1 ? '250' : v)) }),
      // junk strings and absurd values in the middle of the window: gaps, the forecast goes on
      forQuery(METRICS.cpu.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i >= 100 && i < 104 ? junk[i - 100] : v)) }),
      forQuery(METRICS.load.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i === 150 ? '-5' : v)) }),
      forQuery(METRICS.network.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i === 200 ? '1e40' : v)) }),
    ]);
    const s = await cycleAt(t0);
    const after = (metric: MetricName, reason: string): number => s.count('foresight_samples_dropped_total', { metric, reason });
    expect({
      mem: after('memory', 'out_of_range'),
      cpu: after('cpu', 'invalid'),
      load: after('load', 'out_of_range'),
      net: after('network', 'out_of_range'),
    }).toEqual({
      // the latest point is in every read of the metric (the hourly read ends at the same origin)
      mem: counts.mem + 20 * READS_PER_METRIC,
      cpu: counts.cpu + 20 * 4,
      load: counts.load + 20,
      net: counts.net + 20,
    });
    for (const x of s.samples.filter((x) => x.name === 'foresight_metric_value' || x.name === 'foresight_forecast')) {
      expect(x.value).toBeGreaterThanOrEqual(0);
      if (PERCENT_METRICS.has(x.labels['metric'] as MetricName)) expect(x.value).toBeLessThanOrEqual(100);
    }
    // the latest memory point is gone for every server: all stale, risk as it was; nothing was wiped
    expect(s.count('foresight_instance_stale', {})).toBe(20);
    for (const i of instances) expect({ i, ...published(s, i) }).toEqual({ i, ...published(before, i) });
    // with only the middle points bad, servers are fresh and fully forecast
    proxy.setRules([
      forQuery(METRICS.cpu.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i >= 100 && i < 104 ? junk[i - 100] : v)) }),
      forQuery(METRICS.network.expr, { kind: 'rewrite', rewrite: (a) => mapValues(a, (_l, _t, v, i) => (i === 200 ? '1e40' : v)) }),
    ]);
    const mid = await cycleAt(t0);
    expect(mid.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(1);
    expect(mid.count('foresight_instance_stale', {})).toBe(0);
    expect(mid.series('foresight_forecast')).toBe(20 * 6 * 1 * 3);
  });

  test('when a 600 MB answer arrives, then it is refused by size (too_large) without being held in memory, and memory is kept stale', async () => {
    const before = await fresh();
    const n = before.count('foresight_errors_total', { stage: 'source', reason: 'too_large' });
    proxy.setRules([forQuery(METRICS.memory.expr, { kind: 'oversize', bytes: 600 * 1024 * 1024 })]);
    const rss0 = process.memoryUsage().rss;
    const s = await cycleAt(t0);
    // the read stops at max_answer_size (8 MiB here): resident memory grows by far less than the answer
    expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 * 1024);
    expect(s.count('foresight_errors_total', { stage: 'source', reason: 'too_large' })).toBe(n + READS_PER_METRIC);
    expect(s.samples.find((x) => x.name === 'foresight_source_up')?.value).toBe(0);
    expect(s.series('foresight_forecast', { metric: 'memory' })).toBe(20 * 1 * 3);
    expect(s.count('foresight_instance_stale', {})).toBe(20);
  });

  test('when an answer carries more instances than max_instances, then it is refused as too_many_instances and no invented server appears', async () => {
    const before = await fresh();
    const n = before.count('foresight_errors_total', { stage: 'source', reason: 'too_many_instances' });
    const fake = Array.from({ length: 10 }, (_, k) => ({ metric: { instance: `fake${k}` }, values: [[t0, '1'] as [number, unknown]] }));
    proxy.setRules([forQuery(METRICS.disk.expr, { kind: 'rewrite', rewrite: (a) => ({ ...a, data: { ...a.data, result: [...a.data.result, ...fake] } }) })]);
    const s = await cycleAt(t0);
    expect(s.count('foresight_errors_total', { stage: 'source', reason: 'too_many_instances' })).toBe(n + READS_PER_METRIC);
    expect(s.samples.some((x) => x.labels['instance']?.startsWith('fake'))).toBe(false);
    expect(s.count('foresight_instance_stale', {})).toBe(20);
  });
});
