import { framesToSeries, type SeriesInput } from '../series';
import { thresholdsFor } from '../thresholds';
import { prepareCones, type Cone, type ConeSet } from './cones';
import { coneFrames, raw } from './fixture';

const series = framesToSeries(coneFrames);
const H = [30, 60, 120, 180, 240, 360, 480];
const HL = ['30m', '1h', '2h', '3h', '4h', '6h', '8h'];

function cones(instances: string[], metrics: string[] = []): Cone[] {
  const c = prepareCones(series, { instances, metrics, thresholds: thresholdsFor() });
  if ('message' in c) {
    throw new Error(c.message);
  }
  return [...c.cones];
}

function set(input: SeriesInput[], instances: string[] = []): ConeSet {
  const c = prepareCones(input, { instances, thresholds: thresholdsFor() });
  if ('message' in c) {
    throw new Error(c.message);
  }
  return c;
}

describe('prepareCones on frames recorded from a real sidecar + Prometheus run', () => {
  test('when an instance is selected, then there is one cone per metric, with history and nested bands outermost first', () => {
    const c = cones(['ppml0001']);
    expect(c.map((x) => x.metric)).toEqual(['cpu', 'disk', 'iowait', 'load', 'memory', 'network']);
    for (const x of c) {
      expect(x.bands.map((b) => [b.lower, b.upper])).toEqual([[10, 90]]);
      expect(x.history.length).toBeGreaterThan(10);
    }
  });

  test('when a band is built, then its polygon is the upper percentile forward in time and the lower one back, starting at the last observed value', () => {
    const [mem] = cones(['ppml0001'], ['memory']);
    const hist = raw(coneFrames, 'foresight_metric_value', { instance: 'ppml0001', metric: 'memory' });
    const last = { t: hist.times[hist.times.length - 1]!, v: hist.values[hist.values.length - 1]! };
    const at = (p: string): number[] =>
      HL.map(
        (h) =>
          raw(coneFrames, 'foresight_forecast', { instance: 'ppml0001', metric: 'memory', horizon: h, percentile: p })
            .values[0]!
      );
    const now = mem!.now;
    const upper = [last, ...H.map((m, i) => ({ t: now + m * 60000, v: at('90')[i]! }))];
    const lower = [last, ...H.map((m, i) => ({ t: now + m * 60000, v: at('10')[i]! }))];
    expect(mem!.bands[0]!.polygon).toEqual([...upper, ...[...lower].reverse()]);
    expect(mem!.p50).toEqual([last, ...H.map((m, i) => ({ t: now + m * 60000, v: at('50')[i]! }))]);
    // p50 lies inside the band at every horizon
    mem!.p50.forEach((p, i) => {
      expect(p.v).toBeGreaterThanOrEqual(lower[i]!.v);
      expect(p.v).toBeLessThanOrEqual(upper[i]!.v);
    });
  });

  test("when thresholds are on, then each cone carries its profile's warning and critical", () => {
    const [mem] = cones(['ppml0001'], ['memory']);
    expect(mem!.thresholds).toEqual({ warning: 92, critical: 98 }); // ml_compute memory
    const [disk] = cones(['ppdb001'], ['disk']);
    expect(disk!.thresholds).toEqual({ warning: 80, critical: 90 }); // database disk
  });
});

describe('prepareCones on hand-made series', () => {
  const s = (name: string, labels: Record<string, string>, times: number[], values: number[]): SeriesInput => ({
    name,
    labels,
    times,
    values,
  });
  const f = (h: string, p: string, v: number): SeriesInput =>
    s('foresight_forecast', { instance: 'a', profile: 'generic', metric: 'cpu', horizon: h, percentile: p }, [0], [v]);

  test('when the p50 crosses critical between horizons, then the breach is interpolated', () => {
    const input = [
      s('foresight_metric_value', { instance: 'a', metric: 'cpu' }, [0], [85]),
      f('30m', '50', 90),
      f('1h', '50', 100),
    ];
    const [c] = set(input).cones;
    // generic cpu critical 95: halfway between 30m (90) and 1h (100) → 45 min
    expect(c!.breach).toEqual({ t: 45 * 60000, seconds: 45 * 60 });
  });

  test("when the sidecar's p50 time to breach is in the data, then the breach is that time, not the straight line between the few horizons published", () => {
    const ttb = (p: string, v: number | null): SeriesInput => ({
      name: 'foresight_time_to_breach_seconds',
      labels: { instance: 'a', profile: 'generic', metric: 'cpu', percentile: p },
      times: [0],
      values: [v],
    });
    const base = [s('foresight_metric_value', { instance: 'a', metric: 'cpu' }, [0], [85]), f('8h', '50', 100)];
    // interpolated: (95 - 85) / (100 - 85) of 8 h
    expect(set(base).cones[0]!.breach).toEqual({ t: 320 * 60000, seconds: 320 * 60 });
    // the sidecar's p50 crossing (its p90 is not the median's)
    expect(set([...base, ttb('90', 600), ttb('50', 2400)]).cones[0]!.breach).toEqual({
      t: 40 * 60000,
      seconds: 40 * 60,
    });
    // +Inf (no crossing within the forecast) arrives as a non-number: no breach, whatever the line says
    expect(set([...base, ttb('50', null)]).cones[0]!.breach).toBeUndefined();
  });

  test('when all percentile pairs are present, then bands nest 5–95, 10–90, 25–75', () => {
    const input = ['5', '10', '25', '50', '75', '90', '95'].map((p, i) => f('1h', p, 10 + i));
    const [c] = set(input).cones;
    expect(c!.bands.map((b) => [b.lower, b.upper])).toEqual([
      [5, 95],
      [10, 90],
      [25, 75],
    ]);
  });

  test('when there are no forecasts, then it says which queries it expects', () => {
    expect(prepareCones([], {})).toEqual({ message: expect.stringContaining('foresight_forecast') });
  });

  test('when a server asked for has too little history, then it is listed with that reason instead of an empty message', () => {
    const input = [
      f('1h', '50', 40),
      s('foresight_instance_ready', { instance: 'new', profile: 'generic' }, [0], [0]),
      s('foresight_metric_value', { instance: 'young', metric: 'cpu' }, [0], [12]),
    ];
    expect(set(input, ['new', 'young', 'gone', 'a']).missing).toEqual([
      { instance: 'gone', reason: 'not-in-data' },
      { instance: 'new', reason: 'too-little-history' },
      { instance: 'young', reason: 'too-little-history' },
    ]);
    // only a server not ready: still a state, not the message about queries
    expect(set([s('foresight_instance_ready', { instance: 'new' }, [0], [0])], ['new'])).toEqual({
      cones: [],
      missing: [{ instance: 'new', reason: 'too-little-history' }],
    });
  });
});

describe('an unknown server', () => {
  test('when its foresight_instance_unknown is 1, then its old forecasts are not drawn and it is listed as unknown', () => {
    const at = Date.UTC(2026, 11, 1, 14, 0);
    const labels = { instance: 'gone', profile: 'web_api', metric: 'cpu' };
    const input: SeriesInput[] = [
      { name: 'foresight_metric_value', labels, times: [at - 300_000], values: [40] },
      ...['10', '50', '90'].map((p) => ({
        name: 'foresight_forecast',
        labels: { ...labels, horizon: '1h', percentile: p },
        times: [at - 3_600_000],
        values: [40],
      })),
      {
        name: 'foresight_instance_unknown',
        labels: { instance: 'gone', profile: 'web_api' },
        times: [at],
        values: [1],
      },
    ];
    const set = prepareCones(input, { instances: ['gone'] });
    expect('cones' in set && set.cones).toEqual([]);
    expect('missing' in set && set.missing).toEqual([{ instance: 'gone', reason: 'unknown' }]);
  });

  test('when a drawn server is stale, then the set names it with its last good data; a fresh one is not named', () => {
    const at = Date.UTC(2026, 11, 1, 14, 0);
    const input = (instance: string, stale: number[]): SeriesInput[] => {
      const labels = { instance, profile: 'web_api', metric: 'cpu' };
      return [
        { name: 'foresight_metric_value', labels, times: [at], values: [40] },
        ...['10', '50', '90'].map((p) => ({
          name: 'foresight_forecast',
          labels: { ...labels, horizon: '1h', percentile: p },
          times: [at],
          values: [40],
        })),
        {
          name: 'foresight_instance_stale',
          labels: { instance, profile: 'web_api' },
          times: [at - 600_000, at - 300_000, at],
          values: stale,
        },
      ];
    };
    const set = prepareCones([...input('old', [0, 1, 1]), ...input('new', [0, 0, 0])], {});
    expect('stale' in set && set.stale).toEqual([{ instance: 'old', dataAt: at - 600_000, at }]);
  });
});
