/**
 * The evaluation protocol's arithmetic on hand-computed cases, so MASE, its scale, coverage,
 * scaled pinball and the baseline comparison cannot drift silently.
 */
import { compare, coverageOver, maeOver, pinball, pinballOver, seasonalNaiveScale, seriesCsv, SeriesScores, summarise } from '../src/eval/metrics';
import path from 'node:path';
import { defaultDataDir } from '../src/cli/eval';
import { lastValue, linearExtrapolation, seasonalNaive } from '../src/eval/baselines';

describe('scale: in-sample seasonal-naive MAE before the first origin', () => {
  it('averages |y[t] − y[t−m]| over the history', () => {
    // m = 2: pairs (1,4) (2,2) (4,8) (2,2) → |3|,|0|,|4|,|0| → 7/4
    expect(seasonalNaiveScale([1, 2, 4, 2, 8, 2], 2)).toBe(1.75);
  });
  it('skips pairs with a missing value and is NaN when no pair remains', () => {
    expect(seasonalNaiveScale([1, NaN, 3, 5], 2)).toBe(2);
    expect(seasonalNaiveScale([1, 2], 2)).toBeNaN();
  });
});

describe('per-window errors', () => {
  const actual = [10, 12, 14, 16];
  it('MAE over steps 1..H', () => {
    expect(maeOver(actual, [11, 11, 11, 11], 1)).toBe(1);
    expect(maeOver(actual, [11, 11, 11, 11], 2)).toBe(1);
    expect(maeOver(actual, [11, 11, 11, 11], 4)).toBe((1 + 1 + 3 + 5) / 4);
  });
  it('coverage counts actuals inside the band, ends included', () => {
    expect(coverageOver(actual, [10, 13, 0, 0], [20, 20, 13, 16], 4)).toBe(0.5);
  });
  it('pinball: τ·(y − q) above the quantile, (1 − τ)·(q − y) below', () => {
    expect(pinball(0.9, 10, 8)).toBeCloseTo(1.8, 12);
    expect(pinball(0.9, 8, 10)).toBeCloseTo(0.2, 12);
    expect(pinball(0.5, 7, 7)).toBe(0);
    // quantiles 0.1 / 0.5 / 0.9 at two steps, actual 10 then 20:
    // step 1: q = 8, 10, 12 → 0.1·2 + 0 + 0.1·2 = 0.4; step 2: q = 10, 15, 30 → 0.1·10 + 0.5·5 + 0.1·10 = 4.5
    expect(
      pinballOver(
        [10, 20],
        [
          [8, 10],
          [10, 15],
          [12, 30],
        ],
        [0.1, 0.5, 0.9],
        2,
      ),
    ).toBeCloseTo((0.4 + 4.5) / 6, 12);
  });
});

describe('series MASE: averaged over origins, then over series', () => {
  const horizons = [1, 2];
  it('a series scores the mean of its windows, each window scaled by the series scale', () => {
    const s = new SeriesScores('h1 cpu', 'test', 2, horizons);
    s.add('m', [10, 10], { point: [12, 14] }); // H=1: 2/2 = 1; H=2: 3/2 = 1.5
    s.add('m', [10, 10], { point: [10, 12] }); // H=1: 0;       H=2: 1/2 = 0.5
    expect(s.mase('m', 0)).toBe(0.5);
    expect(s.mase('m', 1)).toBe(1);
    expect(s.windows('m')).toBe(2);
    expect(s.coverage('m', 0)).toBeNaN();
  });
  it('coverage and scaled pinball of a model with quantiles', () => {
    const s = new SeriesScores('h1 cpu', 'test', 4, [2]);
    s.add('q', [10, 20], {
      point: [10, 15],
      taus: [0.1, 0.5, 0.9],
      quantiles: [
        [8, 10],
        [10, 15],
        [12, 30],
      ],
    });
    expect(s.coverage('q', 0)).toBe(1);
    expect(s.pinball('q', 0)).toBeCloseTo((0.4 + 4.5) / 6 / 4, 12);
    expect(s.mase('q', 0)).toBe((0 + 5) / 2 / 4);
  });
  it('a baseline equal to the truth scores 0, and the model is compared with the best baseline', () => {
    const truth = [5, 6];
    const series = [1, 2, 3].map((i) => {
      const s = new SeriesScores(`h${i} cpu`, 'test', 1, horizons);
      s.add('model', truth, { point: [5 + i, 6 + i] }); // MASE i at both horizons
      s.add('perfect', truth, { point: truth });
      s.add('off by 1', truth, { point: [4, 5] });
      return s;
    });
    expect(summarise(series, 'perfect', 1)).toEqual({ series: 3, meanMase: 0, medianMase: 0, coverage: NaN, pinball: NaN });
    const m = summarise(series, 'model', 0);
    expect([m.meanMase, m.medianMase]).toEqual([2, 2]);
    const c = compare(series, 'model', ['off by 1', 'perfect'], 1);
    expect(c.bestBaseline).toBe('perfect');
    expect(c.worse).toBe(3);
    expect(c.meanRatio).toBe(Infinity);
    const c2 = compare(series, 'model', ['off by 1'], 0);
    // model 1, 2, 3 vs baseline 1 on each series: 2 and 3 exceed 1.5 × 1
    expect(c2).toEqual({ bestBaseline: 'off by 1', meanRatio: 2, medianRatio: 2, worse: 2, series: 3 });
  });
  it('the per-series CSV names the best baseline of each series and the ratio the 1.5 × share counts', () => {
    const truth = [5, 6];
    const a = new SeriesScores('h2 cpu', 'src', 1, horizons);
    a.add('model', truth, { point: [7, 8] }); // MASE 2 at both horizons
    a.add('off by 1', truth, { point: [4, 5] }); // 1
    a.add('off by 3', truth, { point: [8, 9] }); // 3
    const b = new SeriesScores('h1 "db", 1', 'src', 1, horizons);
    b.add('model', truth, { point: [5, 6] });
    b.add('off by 3', truth, { point: [2, 3] }); // 'off by 1' has no window on this series
    const c = new SeriesScores('h3 cpu', 'src', 1, horizons);
    c.add('model', truth, { point: [6, 7] }); // no baseline scored it: unknown, not a ratio of 0
    const lines = seriesCsv([a, b, c], 'model', ['off by 1', 'off by 3'], ['30m', '1h']).trim().split('\n');
    expect(lines[0]).toBe('source,series,horizon,windows,mase,coverage,pinball,best_baseline,best_baseline_mase,ratio_to_best,off by 1,off by 3');
    expect(lines.slice(1)).toEqual([
      'src,"h1 ""db"", 1",30m,1,0,,,off by 3,3,0,,3',
      'src,"h1 ""db"", 1",1h,1,0,,,off by 3,3,0,,3',
      'src,h2 cpu,30m,1,2,,,off by 1,1,2,1,3',
      'src,h2 cpu,1h,1,2,,,off by 1,1,2,1,3',
      'src,h3 cpu,30m,1,1,,,,,,,',
      'src,h3 cpu,1h,1,1,,,,,,,',
    ]);
  });
  it('median over series differs from the mean when one series is far off', () => {
    const series = [1, 1, 10].map((e, i) => {
      const s = new SeriesScores(`h${i}`, 'test', 1, [1]);
      s.add('m', [0], { point: [e] });
      return s;
    });
    expect(summarise(series, 'm', 0)).toMatchObject({ meanMase: 4, medianMase: 1 });
  });
});

describe('baselines', () => {
  const history = [1, 2, 3, 4, 5, 6];
  it('last value, seasonal naive, predict_linear', () => {
    expect(Array.from(lastValue(history, 2))).toEqual([6, 6]);
    expect(Array.from(seasonalNaive(history, 3, 3)!)).toEqual([4, 5, 6]);
    // a straight line is continued exactly; over the last 2 points of [.., 5, 6]: slope 1
    expect(Array.from(linearExtrapolation(history, 2, 6))).toEqual([7, 8]);
    expect(Array.from(linearExtrapolation([0, 0, 0, 2, 4], 1, 3))).toEqual([6]);
  });
  it('seasonal naive is undefined when the history is shorter than a season', () => {
    expect(seasonalNaive(history, 2, 7)).toBeUndefined();
  });
  it('a seasonal series repeated exactly: seasonal naive scores 0', () => {
    const y = Array.from({ length: 12 }, (_, i) => [3, 1, 4, 1][i % 4]!);
    const s = new SeriesScores('s', 'test', seasonalNaiveScale(y.slice(0, 8), 2), [4]);
    s.add('seasonal naive', y.slice(8), { point: seasonalNaive(y.slice(0, 8), 4, 4)! });
    expect(s.mase('seasonal naive', 0)).toBe(0);
    expect(s.scale).toBe(0.5);
  });
});

describe('where the evaluation reads the real traces', () => {
  it('$FORESIGHT_DATA when set, else shared/data beside the checkout (the training default)', () => {
    expect(defaultDataDir('/src/foresight', { FORESIGHT_DATA: '/data/traces' })).toBe('/data/traces');
    expect(defaultDataDir('/src/foresight', {})).toBe(path.join('/src', 'shared', 'data'));
  });
});
