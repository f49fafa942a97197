/**
 * The level-shift and ramp cases of the evaluation are what they claim to be (a sustained step of
 * ≥ 20 points held ≥ 30 min at the origin; a straight climb crossing the threshold when stated),
 * the same on every run, and scored by the stated rules.
 */
import { firstCrossing, levelShiftCases, rampCases, SHAPE_HISTORY, shiftHeld } from '../src/eval/shapes';
import { DEFAULT_THRESHOLDS } from '../src/profiles/profiles';

const mean = (a: ArrayLike<number>, from: number, to: number): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s / (to - from);
};

describe('level-shift cases', () => {
  const cases = levelShiftCases(30, 96);
  it('step by at least 20 points and hold the new level from at least 30 min before the origin through the next 8 h', () => {
    for (const c of cases) {
      const v = c.values[c.metric]!;
      expect(v.length).toBe(SHAPE_HISTORY + 96);
      const before = mean(v, SHAPE_HISTORY - 288, SHAPE_HISTORY - 13);
      const held = mean(v, SHAPE_HISTORY - 6, SHAPE_HISTORY);
      const after = mean(v, SHAPE_HISTORY, SHAPE_HISTORY + 96);
      // noise and a small daily cycle around the levels
      expect(Math.abs(held - before)).toBeGreaterThan(15);
      expect(Math.abs(after - c.level)).toBeLessThan(4);
      expect(Math.abs(held - c.level)).toBeLessThan(6);
      expect(c.kind === 'level shift up' ? after > before : after < before).toBe(true);
      expect(['cpu', 'memory']).toContain(c.metric);
    }
    expect(cases.filter((c) => c.kind === 'level shift up')).toHaveLength(20);
  });
  it('are the same on every run', () => {
    expect(levelShiftCases(30, 96).map((c) => Array.from(c.values[c.metric]!.subarray(SHAPE_HISTORY - 3, SHAPE_HISTORY + 3)))).toEqual(
      cases.map((c) => Array.from(c.values[c.metric]!.subarray(SHAPE_HISTORY - 3, SHAPE_HISTORY + 3))),
    );
  });
  it('pass only when the p50 stays within 25 % of the new level at every step', () => {
    expect(shiftHeld([40, 50, 60], 48, 3)).toEqual({ held: true, share: 1 });
    expect(shiftHeld([40, 50, 61], 48, 3)).toEqual({ held: false, share: 2 / 3 });
    expect(shiftHeld([20, 20, 20], 48, 3)).toEqual({ held: false, share: 0 });
  });
});

describe('ramp cases', () => {
  const cases = rampCases(30, 96);
  it('climb towards the profile critical threshold and cross it at the stated step', () => {
    for (const c of cases) {
      const v = c.values[c.metric]!;
      expect(c.level).toBe(DEFAULT_THRESHOLDS[c.profile][c.metric].critical);
      expect(c.crossingStep).toBeGreaterThanOrEqual(6);
      expect(c.crossingStep).toBeLessThanOrEqual(72);
      // climbing over the hour before the origin
      expect(mean(v, SHAPE_HISTORY - 3, SHAPE_HISTORY)).toBeGreaterThan(mean(v, SHAPE_HISTORY - 12, SHAPE_HISTORY - 9) + 1);
      // below the threshold at the origin, around it at the crossing
      expect(mean(v, SHAPE_HISTORY - 3, SHAPE_HISTORY)).toBeLessThan(c.level);
      expect(Math.abs(mean(v, SHAPE_HISTORY + c.crossingStep! - 2, SHAPE_HISTORY + c.crossingStep! + 1) - c.level)).toBeLessThan(5);
    }
  });
  it('the forecast crossing is the first step at or above the threshold', () => {
    expect(firstCrossing([80, 89.9, 90, 95], 90, 4)).toBe(3);
    expect(firstCrossing([80, 85], 90, 2)).toBeUndefined();
  });
});
