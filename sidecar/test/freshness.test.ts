/** Fresh, stale, unknown: what each cycle publishes for a server whose data goes missing or bad. */
import { Freshness, metricRecency } from '../src/app/freshness';
import type { CycleResult, PublishedInstance } from '../src/app/freshness';
import type { HistoryWindow } from '../src/source/source';
import { SourceError } from '../src/source/source';
import type { InstanceForecast } from '../src/forecast/forecaster';
import type { InstanceRisk } from '../src/risk/assess';
import { METRIC_NAMES } from '../src/profiles/profiles';
import type { MetricName } from '../src/profiles/profiles';

const STEP = 300;
const LEN = 12;
const OPTIONS = { step: STEP, staleness: 2 * STEP, keepStale: 1800, forgetAfter: 7200 };

type Values = Partial<Record<MetricName, Float32Array>>;

/** A full window of `v` for every metric, with the last `gap` points missing for the listed ones. */
function values(v: number, gap = 0, gapped: readonly MetricName[] = METRIC_NAMES): Values {
  return Object.fromEntries(METRIC_NAMES.map((m) => [m, Float32Array.from({ length: LEN }, (_, i) => (gapped.includes(m) && i >= LEN - gap ? NaN : v))]));
}

function windowOf(end: number, byInstance: Record<string, Values>, failed: MetricName[] = []): HistoryWindow {
  return {
    end,
    step: STEP,
    length: LEN,
    instances: new Map(Object.entries(byInstance)),
    dropped: {},
    failed: failed.map((metric) => ({ metric, error: new SourceError('x', 'http_5xx', true) })),
  };
}

function forecastOf(instance: string, v: Values, score: number): CycleResult {
  const forecasts = Object.fromEntries(Object.keys(v).map((m) => [m, { quantiles: new Float32Array([score]) }]));
  const forecast: InstanceForecast = {
    instance,
    profile: 'generic',
    ready: true,
    current: Object.fromEntries(METRIC_NAMES.map((m) => [m, v[m]?.[LEN - 1] ?? NaN])) as Record<MetricName, number>,
    forecasts,
  };
  const risk: InstanceRisk = { score, level: Math.min(6, Math.floor(score / 15)), drivers: {}, predicted: {}, timeToBreach: {}, topDriver: undefined };
  return { forecast, risk };
}

/** One cycle: windows per instance, each scored `score` (what a re-score of that data would say). */
function cycle(
  f: Freshness,
  end: number,
  data: Record<string, [Values, number]>,
  failed: MetricName[] = [],
): Record<string, Pick<PublishedInstance, 'state' | 'level' | 'goodAt' | 'reason'> & { score: number | undefined }> {
  const byInstance = Object.fromEntries(Object.entries(data).map(([i, [v]]) => [i, v]));
  const results = new Map(Object.entries(data).map(([i, [v, score]]) => [i, forecastOf(i, v, score)]));
  const out = f.update(end, windowOf(end, byInstance, failed), results);
  return Object.fromEntries(
    out.map((p) => [p.forecast.instance, { state: p.state, score: p.risk?.score, level: p.level, goodAt: p.goodAt, reason: p.reason }]),
  );
}

const T = 1_800_000_000;

describe('metricRecency', () => {
  test('when the newest point is at the origin, then the metric is recent; one missing point at the origin makes it stale at two steps', () => {
    expect(metricRecency(values(1), STEP, 2 * STEP)).toEqual({ recent: new Set(METRIC_NAMES), stale: new Set() });
    expect(metricRecency(values(1, 1, ['memory']), STEP, 2 * STEP)).toEqual({
      recent: new Set(METRIC_NAMES.filter((m) => m !== 'memory')),
      stale: new Set(['memory']),
    });
    // staleness three steps tolerates one missing point, not two
    expect(metricRecency(values(1, 1, ['memory']), STEP, 3 * STEP).stale).toEqual(new Set());
    expect(metricRecency(values(1, 2, ['memory']), STEP, 3 * STEP).stale).toEqual(new Set(['memory']));
  });

  test('when a metric has no value at all, then it is neither recent nor stale (missing)', () => {
    expect(metricRecency({ cpu: new Float64Array(LEN).fill(NaN) }, STEP, 2 * STEP)).toEqual({ recent: new Set(), stale: new Set() });
  });
});

describe('Freshness', () => {
  test("when a server's data is complete, then it is fresh with this cycle's risk", () => {
    const f = new Freshness(OPTIONS);
    expect(cycle(f, T, { a: [values(1), 75] })).toEqual({ a: { state: 'fresh', score: 75, level: 5, goodAt: T, reason: undefined } });
  });

  test('when the last 10, 15 or 30 minutes are missing, then the server keeps its last good risk, stale (a re-score would have said healthy)', () => {
    for (const gap of [2, 3, 6]) {
      const f = new Freshness(OPTIONS);
      cycle(f, T, { a: [values(1), 75] });
      expect(cycle(f, T + STEP, { a: [values(1, gap), 5] })).toEqual({ a: { state: 'stale', score: 75, level: 5, goodAt: T, reason: 'stale' } });
    }
  });

  test("when one metric's query failed, then every server that had it is stale (partial), with its last good risk", () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 60], b: [values(1), 40] });
    const noMemory = (): Values => {
      const v = values(1);
      delete v.memory;
      return v;
    };
    expect(cycle(f, T + STEP, { a: [noMemory(), 30], b: [noMemory(), 10] }, ['memory'])).toEqual({
      a: { state: 'stale', score: 60, level: 4, goodAt: T, reason: 'partial' },
      b: { state: 'stale', score: 40, level: 2, goodAt: T, reason: 'partial' },
    });
  });

  test('when a server vanishes, then it is stale up to keep_stale after its last good data, then unknown with its last level, then forgotten', () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 75], b: [values(1), 10] });
    expect(cycle(f, T + 1800, { b: [values(1), 10] })['a']).toEqual({ state: 'stale', score: 75, level: 5, goodAt: T, reason: 'missing' });
    expect(cycle(f, T + 1800 + STEP, { b: [values(1), 10] })['a']).toEqual({ state: 'unknown', score: undefined, level: 5, goodAt: T, reason: 'missing' });
    expect(cycle(f, T + 7200, { b: [values(1), 10] })['a']).toEqual({ state: 'unknown', score: undefined, level: 5, goodAt: T, reason: 'missing' });
    expect(cycle(f, T + 7200 + STEP, { b: [values(1), 10] })['a']).toBeUndefined();
  });

  test('when a server comes back complete, then it is fresh again with its new risk', () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 75] });
    cycle(f, T + 3600, {});
    expect(cycle(f, T + 3600 + STEP, { a: [values(1), 20] })['a']).toEqual({ state: 'fresh', score: 20, level: 1, goodAt: T + 3600 + STEP, reason: undefined });
  });

  test('when the whole read fails, then every server is stale (missing) with its last good risk', () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 75] });
    const out = f.update(T + STEP, undefined, undefined);
    expect(out.map((p) => [p.forecast.instance, p.state, p.risk?.score, p.reason])).toEqual([['a', 'stale', 75, 'missing']]);
  });

  test('when a forecast that was made before fails now (nan_output), then the server is stale, not re-scored without it', () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 75] });
    const r = forecastOf('a', values(1), 10);
    const partial: CycleResult = { forecast: { ...r.forecast, forecasts: { cpu: r.forecast.forecasts.cpu! } }, risk: r.risk };
    const out = f.update(T + STEP, windowOf(T + STEP, { a: values(1) }), new Map([['a', partial]]));
    expect(out.map((p) => [p.state, p.risk?.score, p.reason])).toEqual([['stale', 75, 'forecast']]);
  });

  test('when a server is first seen with no recent data, then it is unknown without a level (never scored healthy)', () => {
    const f = new Freshness(OPTIONS);
    expect(cycle(f, T, { a: [values(1, 6), 0], b: [values(NaN), 0] })).toEqual({
      a: { state: 'unknown', score: undefined, level: undefined, goodAt: undefined, reason: 'stale' },
      b: { state: 'unknown', score: undefined, level: undefined, goodAt: undefined, reason: 'missing' },
    });
    // and once it leaves the answers it is gone after forget_after
    expect(cycle(f, T + STEP, {})['a']?.state).toBe('unknown');
    expect(cycle(f, T + 7200 + STEP, {})['a']).toBeUndefined();
  });

  test('when the unknown server publishes, then it has no forecasts and no current values', () => {
    const f = new Freshness(OPTIONS);
    cycle(f, T, { a: [values(1), 75] });
    const [p] = f.update(T + 3600, undefined, undefined);
    expect({
      state: p!.state,
      forecasts: p!.forecast.forecasts,
      current: Object.values(p!.forecast.current).every(Number.isNaN),
      ready: p!.forecast.ready,
    }).toEqual({ state: 'unknown', forecasts: {}, current: true, ready: false });
  });
});
