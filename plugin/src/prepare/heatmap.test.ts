import { framesToSeries, type SeriesInput } from '../series';
import { cellTooltip, prepareHeatmap, type HeatmapModel } from './heatmap';
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
    const times = [...new Set(series.filter((s) => s.name === 'foresight_risk_score').flatMap((s) => s.times))].sort((a, b) => a - b);
    expect(m.columns.filter((c) => !c.predicted).map((c) => c.time)).toEqual(times);
    expect(m.columns.filter((c) => c.predicted).map((c) => c.horizon)).toEqual(HORIZONS);
    expect(m.nowIndex).toBe(times.length);
    expect(m.now).toBe(times[times.length - 1]);
    // future columns sit at now + horizon
    expect(m.columns[m.nowIndex]!.time).toBe(m.now + 30 * 60 * 1000);
    expect(m.columns[m.columns.length - 1]!.time).toBe(m.now + 8 * 3600 * 1000);
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

  test('when sorted by worst now, then imminent and critical rows come first and ties go by name', () => {
    const m = model('worstCurrent');
    expect(m.rows.slice(0, 3).map((r) => r.instance)).toEqual(['ppdb002', 'ppdi001', 'ppweb003']);
    const levels = m.rows.map((r) => r.worstCurrent);
    expect([...levels].sort((a, b) => b - a)).toEqual(levels);
  });

  test('when sorted by name, then rows follow natural order', () => {
    expect(model('name').rows.slice(0, 4).map((r) => r.instance)).toEqual(['ppcon01', 'ppdb001', 'ppdb002', 'ppdb003']);
  });

  test('when there are more samples than columns, then columns merge and the worst score in each wins', () => {
    const m = model('name', 10);
    expect(m.nowIndex).toBe(10);
    const r = raw(heatmapFrames, 'foresight_risk_score', { instance: 'ppdb002' });
    const best = Math.max(...m.rows.find((x) => x.instance === 'ppdb002')!.cells.slice(0, 10).map((c) => c?.score ?? 0));
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
  const s = (name: string, labels: Record<string, string>, times: number[], values: Array<number | null>): SeriesInput => ({ name, labels, times, values });

  test('when there is no risk score, then it says which queries it expects', () => {
    const m = prepareHeatmap([s('up', { instance: 'a' }, [1], [1])], { sort: 'name' });
    expect(m).toEqual({ message: expect.stringContaining('foresight_risk_score') });
  });

  test('when values are missing or null, then those cells are empty, not zero', () => {
    const m = prepareHeatmap([s('foresight_risk_score', { instance: 'a' }, [1000, 2000], [null, 65]), s('foresight_risk_score', { instance: 'b' }, [2000], [10])], { sort: 'name' });
    if ('message' in m) {
      throw new Error(m.message);
    }
    expect(m.rows.map((r) => r.cells)).toEqual([
      [null, { score: 65, level: 3 }],
      [null, { score: 10, level: 0 }],
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
      { sort: 'name', horizons: ['1h'] },
    );
    if ('message' in m) {
      throw new Error(m.message);
    }
    expect(m.columns).toEqual([
      { time: 1000, predicted: false },
      { time: 1000 + 3600 * 1000, predicted: true, horizon: '1h' },
    ]);
    expect(m.rows[0]!.worstPredicted).toBe(2);
  });
});
