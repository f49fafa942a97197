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
  test('when memory climbs steadily and the model reverts, then the forecast follows the line for 4 h and holds, band width kept', () => {
    const recent = climbing(50, 8); // 50 % an hour ago, 58 % now: the line reaches an 85 % critical threshold within 4 h
    const q = flatForecast(50);
    expect(continueSteadyClimb(q, recent, 'memory', STEP, Q, 85)).toBe(true);
    // "now" is the median of the last 15 minutes (spike-robust, as the risk engine reads it): one step back on a line
    const now = recent[recent.length - 2]!;
    // p50 one hour ahead ≈ now + 8, four hours ≈ now + 32, then held
    expect(at(q, 11, 3)).toBeCloseTo(now + 8, 0);
    expect(at(q, 47, 3)).toBeCloseTo(now + 32, 0);
    expect(at(q, 95, 3)).toBeCloseTo(at(q, 47, 3), 5);
    expect(CLIMB_HORIZON_SECONDS).toBe(4 * 3600);
    // the band moved with it: p90 − p10 is still 8 at every step, and quantiles stay in order
    for (let h = 0; h < STEPS; h++) {
      expect(at(q, h, 5) - at(q, h, 1)).toBeCloseTo(8, 4);
      for (let k = 1; k < Q.length; k++) expect(at(q, h, k)).toBeGreaterThanOrEqual(at(q, h, k - 1));
    }
  });

  test('when the line runs past 100 %, then every quantile is capped at 100', () => {
    const q = flatForecast(80);
    expect(continueSteadyClimb(q, climbing(80, 15), 'disk', STEP, Q, 95)).toBe(true);
    expect(Math.max(...q)).toBe(100);
    expect(at(q, 95, 0)).toBe(100);
  });

  test('when CPU climbs the same way, then its forecast is left to the model (CPU does not fill up)', () => {
    const q = flatForecast(50);
    const before = q.slice();
    expect(continueSteadyClimb(q, climbing(50, 12), 'cpu', STEP, Q, 95)).toBe(false);
    expect(q).toEqual(before);
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

  test('when a steady climb would not reach critical within 4 h, then the forecast of the model stands (ordinary climbs are its job)', () => {
    const q = flatForecast(50);
    const before = q.slice();
    // 56 % now, +6 %/h: 80 % in 4 h, short of an 85 % critical threshold
    expect(continueSteadyClimb(q, climbing(50, 6), 'memory', STEP, Q, 85)).toBe(false);
    expect(q).toEqual(before);
    expect(continueSteadyClimb(q, climbing(50, 6), 'memory', STEP, Q, 79)).toBe(true);
  });

  test('when the model already forecasts above the line, then it is never lowered', () => {
    const q = flatForecast(95);
    const before = q.slice();
    expect(continueSteadyClimb(q, climbing(50, 6), 'memory', STEP, Q, 60)).toBe(false);
    expect(q).toEqual(before);
  });
});
