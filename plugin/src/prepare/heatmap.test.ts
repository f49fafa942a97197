import { framesToSeries, type SeriesInput } from '../series';
import { cellTooltip, pastTicks, prepareHeatmap, worstInstance, xOf, type HeatmapModel } from './heatmap';
import { heatmapFrames, raw } from './fixture';

const series = framesToSeries(heatmapFrames);
const HORIZONS = ['30m', '1h', '2h', '3h', '4h', '6h', '8h'];

function model(sort: 'worstCurrent' | 'worstPredicted' | 'name' = 'worstCurrent', maxPastColumns = 500): HeatmapModel {
  const m = prepareHeatmap(series, { sort, maxPastColumns });
  if ('message' in m) {
    throw new Error(m.message);
  }
  return m;
}

describe('prepareHeatmap on frames recorded from a real sidecar + Prometheus run', () => {
  test('when every sample fits, then there is one past column per sample time and one future column per horizon, in order', () => {
    const m = model();
    const times = [...new Set(series.filter((s) => s.name === 'foresight_risk_score').flatMap((s) => s.times))].sort(
      (a, b) => a - b
    );
    // the recorded samples are 2 s apart: each column covers the 2 s up to its sample
    expect(m.columns.filter((c) => !c.predicted).map((c) => c.end)).toEqual(times);
    expect(m.columns.filter((c) => !c.predicted).map((c) => c.end - c.start)).toEqual(times.map(() => 2000));
    expect(m.columns.filter((c) => c.predicted).map((c) => c.horizon)).toEqual(HORIZONS);
    expect(m.nowIndex).toBe(times.length);
    expect(m.now).toBe(times[times.length - 1]);
    expect(m.pastStart).toBe(times[0]! - 2000);
    // each future column spans from the previous horizon to its own
    const minutes = m.columns.slice(m.nowIndex).map((c) => [(c.start - m.now) / 60000, (c.end - m.now) / 60000]);
    expect(minutes).toEqual([
      [0, 30],
      [30, 60],
      [60, 120],
      [120, 180],
      [180, 240],
      [240, 360],
      [360, 480],
    ]);
    expect(m.futureEnd).toBe(m.now + 8 * 3600 * 1000);
  });

  test('when the past is two minutes and the future eight hours, then the past gets the share of the width its time has', () => {
    const m = model();
    expect(m.pastShare).toBeCloseTo(126 / (126 + 8 * 3600), 12);
    expect(m.sameScale).toBe(true);
    // the 30m column is a sixteenth of the future, the 6h→8h one a quarter
    const w = (k: number): number => xOf(m, m.columns[k]!.end) - xOf(m, m.columns[k]!.start);
    expect(w(m.nowIndex) / (1 - m.pastShare)).toBeCloseTo(1 / 16, 12);
    expect(w(m.columns.length - 1) / (1 - m.pastShare)).toBeCloseTo(1 / 4, 12);
  });

  test('when the grid is built, then each row is one instance and cells carry the recorded score and its level', () => {
    const m = model();
    expect(m.rows).toHaveLength(20);
    const ppdb002 = m.rows.find((r) => r.instance === 'ppdb002')!;
    expect(ppdb002.profile).toBe('database');
    const r = raw(heatmapFrames, 'foresight_risk_score', { instance: 'ppdb002' });
    const lastCol = m.nowIndex - 1;
    expect(ppdb002.cells[lastCol]).toEqual({ score: r.values[r.values.length - 1], level: 6 }); // 91.76: imminent_failure
    const ppcon01 = m.rows.find((r) => r.instance === 'ppcon01')!;
    expect(ppcon01.cells[0]).toEqual({ score: 11.87, level: 0 }); // healthy
    // predicted cells come from foresight_predicted_risk_score by horizon
    const p = raw(heatmapFrames, 'foresight_predicted_risk_score', { instance: 'ppdb002', horizon: '2h' });
    expect(ppdb002.cells[m.nowIndex + HORIZONS.indexOf('2h')]!.score).toBe(p.values[0]);
  });

  test('when sorted by worst now, then imminent and critical rows come first and ties go by current score', () => {
    const m = model('worstCurrent');
    expect(m.rows.slice(0, 3).map((r) => r.instance)).toEqual(['ppdb002', 'ppdi001', 'ppweb003']);
    const levels = m.rows.map((r) => r.worstCurrent);
    expect([...levels].sort((a, b) => b - a)).toEqual(levels);
    for (let i = 1; i < m.rows.length; i++) {
      if (m.rows[i]!.worstCurrent === m.rows[i - 1]!.worstCurrent) {
        expect(m.rows[i]!.currentScore).toBeLessThanOrEqual(m.rows[i - 1]!.currentScore);
      }
    }
  });

  test('when sorted by name, then rows follow natural order', () => {
    expect(
      model('name')
        .rows.slice(0, 4)
        .map((r) => r.instance)
    ).toEqual(['ppcon01', 'ppdb001', 'ppdb002', 'ppdb003']);
  });

  test('when there are more samples than columns, then columns merge and the worst score in each wins', () => {
    const m = model('name', 10);
    expect(m.nowIndex).toBe(10);
    const r = raw(heatmapFrames, 'foresight_risk_score', { instance: 'ppdb002' });
    const best = Math.max(
      ...m.rows
        .find((x) => x.instance === 'ppdb002')!
        .cells.slice(0, 10)
        .map((c) => c?.score ?? 0)
    );
    expect(best).toBe(Math.max(...r.values));
  });

  test('when a cell is hovered, then the tooltip names instance, profile, time, score, level and top drivers', () => {
    const m = model();
    const row = m.rows.find((r) => r.instance === 'ppdb002')!;
    const lines = cellTooltip(m, row, m.nowIndex - 1);
    expect(lines[0]).toBe('ppdb002 (database)');
    expect(lines[1]).toBe(`${new Date(m.now).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    expect(lines[2]).toBe('score 92 · imminent_failure');
    expect(lines[3]).toMatch(/^drivers: \S+ \d+/);
    expect(cellTooltip(m, row, m.nowIndex)[1]).toMatch(/^predicted for now \+ 30m/);
  });
});

describe('prepareHeatmap on hand-made series', () => {
  const s = (
    name: string,
    labels: Record<string, string>,
    times: number[],
    values: Array<number | null>
  ): SeriesInput => ({ name, labels, times, values });

  test('when there is no risk score, then it says which queries it expects', () => {
    const m = prepareHeatmap([s('up', { instance: 'a' }, [1], [1])], { sort: 'name' });
    expect(m).toEqual({ message: expect.stringContaining('foresight_risk_score') });
  });

  test('when values are missing or null, then those cells are empty, not zero', () => {
    const m = prepareHeatmap(
      [
        s('foresight_risk_score', { instance: 'a' }, [1000, 2000], [null, 65]),
        s('foresight_risk_score', { instance: 'b' }, [1000, 2000], [5, 10]),
      ],
      { sort: 'name' }
    );
    if ('message' in m) {
      throw new Error(m.message);
    }
    expect(m.rows.map((r) => r.cells)).toEqual([
      [null, { score: 65, level: 3 }],
      [
        { score: 5, level: 0 },
        { score: 10, level: 0 },
      ],
    ]);
  });

  test('when a horizon is not a duration or not selected, then it gets no column', () => {
    const m = prepareHeatmap(
      [
        s('foresight_risk_score', { instance: 'a' }, [1000], [10]),
        s('foresight_predicted_risk_score', { instance: 'a', horizon: 'soon' }, [1000], [50]),
        s('foresight_predicted_risk_score', { instance: 'a', horizon: '1h' }, [1000], [50]),
        s('foresight_predicted_risk_score', { instance: 'a', horizon: '2h' }, [1000], [90]),
      ],
      { sort: 'name', horizons: ['1h'] }
    );
    if ('message' in m) {
      throw new Error(m.message);
    }
    expect(m.columns).toEqual([
      // one sample: its column covers the default step of a minute
      { start: 1000 - 60_000, end: 1000, predicted: false },
      { start: 1000, end: 1000 + 3600 * 1000, predicted: true, horizon: '1h' },
    ]);
    expect(m.rows[0]!.worstPredicted).toBe(2);
  });

  const ok = (m: ReturnType<typeof prepareHeatmap>): HeatmapModel => {
    if ('message' in m) {
      throw new Error(m.message);
    }
    return m;
  };
  const MIN = 60_000;
  const H = 3_600_000;
  const T = Date.UTC(2026, 11, 1, 12, 0);

  test('when five minutes of history lie in a 6 h window, then they fill only the last five minutes of the past', () => {
    const m = ok(
      prepareHeatmap(
        [
          s('foresight_risk_score', { instance: 'a' }, [T - 5 * MIN, T], [10, 20]),
          s('foresight_predicted_risk_score', { instance: 'a', horizon: '8h' }, [T], [70]),
        ],
        { sort: 'name', pastWindow: 6 * H, maxPastColumns: 72 }
      )
    );
    expect(m.nowIndex).toBe(72);
    expect(m.pastStart).toBe(T - 6 * H);
    expect(m.pastShare).toBeCloseTo(6 / 14, 12);
    expect(
      m.rows[0]!.cells.slice(0, 72)
        .map((c, i) => (c ? i : -1))
        .filter((i) => i >= 0)
    ).toEqual([70, 71]);
    // the filled past is 5 min of the 14 h axis wide
    expect(xOf(m, T) - xOf(m, m.columns[70]!.start)).toBeCloseTo((10 * MIN) / (14 * H), 12);
  });

  test('when the past window is much longer than the horizons, then the past is capped at 60 % of the width and marked as compressed', () => {
    const m = ok(
      prepareHeatmap(
        [
          s('foresight_risk_score', { instance: 'a' }, [T], [10]),
          s('foresight_predicted_risk_score', { instance: 'a', horizon: '1h' }, [T], [20]),
        ],
        { sort: 'name', pastWindow: 24 * H }
      )
    );
    expect(m.pastShare).toBe(0.6);
    expect(m.sameScale).toBe(false);
    expect(xOf(m, T - 12 * H)).toBeCloseTo(0.3, 12);
    expect(xOf(m, T + 30 * MIN)).toBeCloseTo(0.8, 12);
  });

  test('when levels tie, then worst predicted sorts by predicted score, and the cones default to the top of that order', () => {
    const rows = [
      s('foresight_risk_score', { instance: 'a' }, [T], [85]),
      s('foresight_predicted_risk_score', { instance: 'a', horizon: '1h' }, [T], [61]),
      s('foresight_risk_score', { instance: 'b' }, [T], [20]),
      s('foresight_predicted_risk_score', { instance: 'b', horizon: '1h' }, [T], [68]),
      s('foresight_risk_score', { instance: 'c' }, [T], [25]),
      s('foresight_predicted_risk_score', { instance: 'c', horizon: '1h' }, [T], [66]),
    ];
    const m = ok(prepareHeatmap(rows, { sort: 'worstPredicted' }));
    expect(m.rows.map((r) => [r.instance, r.worstPredicted, r.worstPredictedScore])).toEqual([
      ['b', 3, 68],
      ['c', 3, 66],
      ['a', 3, 61],
    ]);
    expect(worstInstance(m.rows)).toBe('b');
    // sorted by worst now instead, a (critical now) leads, but the cones still default to b
    const now = ok(prepareHeatmap(rows, { sort: 'worstCurrent' }));
    expect(now.rows.map((r) => r.instance)).toEqual(['a', 'c', 'b']);
    expect(worstInstance(now.rows)).toBe('b');
  });

  test('when ticks are asked for, then they are round clock times inside the past window, at most as many as asked', () => {
    expect(pastTicks(T - 6 * H, T, 4).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      '06:00',
      '08:00',
      '10:00',
    ]);
    expect(pastTicks(T - 6 * H, T, 6).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      '06:00',
      '07:00',
      '08:00',
      '09:00',
      '10:00',
      '11:00',
    ]);
    expect(pastTicks(T - 5 * MIN, T, 3).map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      '11:56',
      '11:58',
    ]);
    expect(pastTicks(T, T, 3)).toEqual([]);
  });
});

describe('stale and unknown servers', () => {
  const T = Date.UTC(2026, 11, 1, 14, 0);
  const MIN = 60_000;
  const times = Array.from({ length: 13 }, (_, k) => T - (12 - k) * 5 * MIN);
  const s = (
    name: string,
    instance: string,
    t: number[],
    v: number[],
    extra: Record<string, string> = {}
  ): SeriesInput => ({ name, labels: { instance, profile: 'web_api', ...extra }, times: t, values: v });
  // a: fresh, healthy; b: stale since 13:40 at danger (carried over); c: unknown since 13:30, healthy before
  const fleet: SeriesInput[] = [
    s(
      'foresight_risk_score',
      'a',
      times,
      times.map(() => 10)
    ),
    s('foresight_predicted_risk_score', 'a', [T], [12], { horizon: '1h' }),
    s(
      'foresight_risk_score',
      'b',
      times,
      times.map(() => 74)
    ),
    s('foresight_predicted_risk_score', 'b', [T], [80], { horizon: '1h' }),
    s(
      'foresight_risk_score',
      'c',
      times.filter((t) => t <= T - 30 * MIN),
      times.filter((t) => t <= T - 30 * MIN).map(() => 5)
    ),
    s(
      'foresight_instance_stale',
      'a',
      times,
      times.map(() => 0)
    ),
    s(
      'foresight_instance_stale',
      'b',
      times,
      times.map((t) => (t > T - 20 * MIN ? 1 : 0))
    ),
    s(
      'foresight_instance_stale',
      'c',
      times,
      times.map((t) => (t > T - 30 * MIN ? 1 : 0))
    ),
    s(
      'foresight_instance_unknown',
      'c',
      times,
      times.map((t) => (t === T ? 1 : 0))
    ),
  ];
  const prepared = (sort: 'worstCurrent' | 'worstPredicted' | 'name'): HeatmapModel => {
    const m = prepareHeatmap(fleet, { sort });
    if ('message' in m) {
      throw new Error(m.message);
    }
    return m;
  };

  test('when a server is stale, then it keeps its last good level and its cells after the last good data are marked stale', () => {
    const m = prepared('worstCurrent');
    const b = m.rows.find((r) => r.instance === 'b')!;
    expect(b.state).toBe('stale');
    expect(b.dataAt).toBe(T - 20 * MIN);
    expect(b.worstCurrent).toBe(4); // danger, sorted where it was
    const stale = b.cells.map((_, k) => k >= b.staleFrom);
    expect(m.columns.filter((c, k) => stale[k] && !c.predicted).every((c) => c.end > T - 20 * MIN)).toBe(true);
    expect(stale.slice(m.nowIndex).every(Boolean)).toBe(true);
    expect(cellTooltip(m, b, m.nowIndex - 1).join('\n')).toContain(
      'stale: last data at 2026-12-01 13:40 UTC (20 min ago)'
    );
    // a fresh server has nothing marked
    const a = m.rows.find((r) => r.instance === 'a')!;
    expect([a.state, a.staleFrom]).toEqual(['fresh', m.columns.length]);
  });

  test('when a server is unknown, then it has no current level and no predicted cells, sorts first in the worst orders, and is never the default cone', () => {
    const m = prepared('worstCurrent');
    const c = m.rows.find((r) => r.instance === 'c')!;
    expect(c.state).toBe('unknown');
    expect(c.worstCurrent).toBe(-1);
    expect(c.cells.slice(m.nowIndex).every((x) => x === null)).toBe(true);
    expect(m.rows.map((r) => r.instance)).toEqual(['c', 'b', 'a']);
    expect(prepared('worstPredicted').rows[0]!.instance).toBe('c');
    expect(worstInstance(m.rows)).toBe('b');
  });

  test('when the state series are absent (an older sidecar), then nothing is marked', () => {
    const m = prepareHeatmap(
      fleet.filter((x) => !x.name.startsWith('foresight_instance_')),
      { sort: 'worstCurrent' }
    ) as HeatmapModel;
    expect(m.rows.map((r) => r.state)).toEqual(['fresh', 'fresh', 'fresh']);
  });
});
