/** Climb continuation (forecast/climb.ts): the published forecast follows a leak instead of the model's reversion. */
import { CLIMB_HORIZON_SECONDS, continueSteadyClimb } from '../src/forecast/climb';

const STEP = 300;
const Q = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];
const STEPS = 96;

/** A flat model forecast around `level`: quantiles level-6 … level+6. */
function flatForecast(level: number): Float32Array {
  const q = new Float32Array(STEPS * Q.length);
  for (let h = 0; h < STEPS; h++) Q.forEach((_, k) => (q[h * Q.length + k] = level + (k - 3) * 2));
  return q;
}

/** Three hours of history: flat at `base`, then the last hour rising by `perHour`. */
function climbing(base: number, perHour: number): Float64Array {
  return Float64Array.from({ length: 36 }, (_, i) => (i < 24 ? base : base + (perHour * (i - 23) * STEP) / 3600));
}

const at = (q: Float32Array, h: number, k: number): number => q[h * Q.length + k]!;

describe('climb continuation', () => {
  test('when memory climbs steadily and the model reverts, then the forecast follows the line for all 8 h, band width kept', () => {
    const recent = climbing(50, 8); // 50 % an hour ago, 58 % now: the line reaches an 85 % critical threshold within 4 h
    const q = flatForecast(50);
    expect(continueSteadyClimb(q, recent, 'memory', STEP, Q, 85)).toBe(true);
    // "now" is the median of the last 15 minutes (spike-robust, as the risk engine reads it): one step back on a line
    const now = recent[recent.length - 2]!;
    // p50 one hour ahead ≈ now + 8, four hours ≈ now + 32, then on up to 100 %
    expect(at(q, 11, 3)).toBeCloseTo(now + 8, 0);
    expect(at(q, 47, 3)).toBeCloseTo(now + 32, 0);
    expect(at(q, 59, 3)).toBeCloseTo(now + 40, 0);
    expect(CLIMB_HORIZON_SECONDS).toBe(8 * 3600);
    // the band moved with it: p90 − p10 is still 8 wherever the band stays under 100 %, and quantiles stay in order
    for (let h = 0; h < STEPS; h++) {
      if (at(q, h, 6) < 100) expect(at(q, h, 5) - at(q, h, 1)).toBeCloseTo(8, 4);
      for (let k = 1; k < Q.length; k++) expect(at(q, h, k)).toBeGreaterThanOrEqual(at(q, h, k - 1));
    }
  });

  test('when the line runs past 100 %, then every quantile is capped at 100', () => {
    const q = flatForecast(80);
    expect(continueSteadyClimb(q, climbing(80, 15), 'disk', STEP, Q, 95)).toBe(true);
    expect(Math.max(...q)).toBe(100);
    expect(at(q, 95, 0)).toBe(100);
  });

  test('when CPU climbs the same way towards critical, then its forecast follows the line too (a runaway)', () => {
    const q = flatForecast(50);
    expect(continueSteadyClimb(q, climbing(50, 12), 'cpu', STEP, Q, 95)).toBe(true);
    expect(at(q, 23, 3)).toBeGreaterThan(70);
  });

  test('when the metric is network or load, then the forecast is left to the model', () => {
    for (const metric of ['network', 'load'] as const) {
      const q = flatForecast(50);
      const before = q.slice();
      expect(continueSteadyClimb(q, climbing(50, 12), metric, STEP, Q, 95)).toBe(false);
      expect(q).toEqual(before);
    }
  });

  test('when the same hour yesterday climbed as steeply, then it is the daily rhythm and the forecast of the model stands', () => {
    // 30 h of history: yesterday at this hour the same +12 %/h climb from 50 %, otherwise flat at 50
    const day = 288;
    const today = climbing(50, 12);
    const recent = Float64Array.from({ length: 360 }, (_, i) => {
      const j = i - (360 - 36); // position in today's three hours
      if (j >= 0) return today[j]!;
      const y = i - (360 - 36 - day); // the same three hours a day earlier
      return y >= 0 && y < 36 ? today[y]! : 50;
    });
    const q = flatForecast(50);
    const before = q.slice();
    expect(continueSteadyClimb(q, recent, 'cpu', STEP, Q, 95)).toBe(false);
    expect(q).toEqual(before);
    // flat yesterday: the same climb today is new, and is followed
    const fresh = Float64Array.from({ length: 360 }, (_, i) => (i >= 360 - 36 ? today[i - (360 - 36)]! : 50));
    expect(continueSteadyClimb(q, fresh, 'cpu', STEP, Q, 95)).toBe(true);
  });

  test.each([
    ['falling', Float64Array.from({ length: 36 }, (_, i) => 80 - i * 0.5)],
    ['noisy, not a straight climb', Float64Array.from({ length: 36 }, (_, i) => 50 + (i % 2 ? 10 : -10) + i * 0.1)],
    ['flat', new Float64Array(36).fill(70)],
    ['rose but stopped rising in the last 15 minutes', Float64Array.from({ length: 36 }, (_, i) => (i < 24 ? 50 : Math.min(50 + (i - 23) * 1.5, 62)))],
  ])('when memory is %s, then the forecast is unchanged', (_, recent) => {
    const q = flatForecast(50);
    const before = q.slice();
    expect(continueSteadyClimb(q, recent, 'memory', STEP, Q, 95)).toBe(false);
    expect(q).toEqual(before);
  });

  test('when a steady climb would not reach critical within 8 h, then the forecast of the model stands (ordinary climbs are its job)', () => {
    const q = flatForecast(50);
    const before = q.slice();
    // ~52.7 % now, +3 %/h: ~76.7 % in 8 h, short of an 85 % critical threshold
    expect(continueSteadyClimb(q, climbing(50, 3), 'memory', STEP, Q, 85)).toBe(false);
    expect(q).toEqual(before);
    expect(continueSteadyClimb(q, climbing(50, 3), 'memory', STEP, Q, 76)).toBe(true);
  });

  test('when CPU stepped up inside the hour and creeps on slowly, then it is a new level, left to the model', () => {
    // the last hour of a simulated web server: flat at 16 %, a step to 34 % over ten minutes, then a
    // creep to 37 %: the hour's line has R² ≥ 0.8 and heads for 95 % within 2 h, but its last 30
    // minutes climb at a fifth of that pace
    const hour = [16, 16, 16, 16, 16, 23, 34, 34, 35, 36, 36, 37, 37];
    const recent = Float64Array.from({ length: 36 }, (_, i) => (i < 23 ? 16 : hour[i - 23]!));
    const q = flatForecast(35);
    const before = q.slice();
    expect(continueSteadyClimb(q, recent, 'cpu', STEP, Q, 95)).toBe(false);
    expect(q).toEqual(before);
  });

  test('when the model already forecasts above the line, then it is never lowered', () => {
    const q = flatForecast(95);
    const before = q.slice();
    expect(continueSteadyClimb(q, climbing(50, 4), 'memory', STEP, Q, 60)).toBe(false);
    expect(q).toEqual(before);
  });
});
