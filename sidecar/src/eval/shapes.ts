/**
 * Level shifts and ramps: synthetic servers built here, deterministically (a fixed seed through
 * the simulator's hash noise), that no training run has seen. Two questions a user asks of a
 * forecast after a change:
 *
 * - **Level shift**: cpu or memory stepped by 20–50 points and has held the new level for
 *   30–60 min at the forecast origin. Does the p50 stay within 25 % of the new level at every
 *   step of the next 8 h (the step persists)?
 * - **Ramp**: cpu, memory or disk has climbed in a straight line for 1–3 h towards the
 *   profile's critical threshold, which the line crosses 30 min to 6 h after the origin. Does the
 *   p50 forecast cross the threshold no later than 30 min after the line does?
 *
 * The series carry a small daily cycle and noise, and a second, flat metric beside the target.
 */
import { DEFAULT_THRESHOLDS, PROFILE_NAMES } from '../profiles/profiles';
import type { MetricName, ProfileName } from '../profiles/profiles';
import { clamp, uniform } from '../simulator/random';

const SEED = 20261201;
/** History before the origin (steps): a week and a day, more than any context a model reads. */
export const SHAPE_HISTORY = 8 * 288;
const DAY = 288;

export interface ShapeCase {
  readonly name: string;
  readonly kind: 'level shift up' | 'level shift down' | 'ramp';
  readonly profile: ProfileName;
  readonly metric: MetricName;
  /** Every metric of the server: SHAPE_HISTORY values up to the origin, then `future` values after it. */
  readonly values: Readonly<Partial<Record<MetricName, Float64Array>>>;
  /** Level shift: the new level. Ramp: the threshold. */
  readonly level: number;
  /** Ramp: steps after the origin at which the line crosses the threshold. */
  readonly crossingStep?: number;
}

/** Roughly normal noise (sum of three uniforms, unit variance). */
function noise(...k: number[]): number {
  return (uniform(SEED, ...k, 1) + uniform(SEED, ...k, 2) + uniform(SEED, ...k, 3) - 1.5) * 2;
}

function series(n: number, id: number, channel: number, level: (i: number) => number, cycle: number, sigma: number): Float64Array {
  const phase = 2 * Math.PI * uniform(SEED, id, channel, 99);
  return Float64Array.from({ length: n }, (_, i) =>
    clamp(level(i) + cycle * Math.sin((2 * Math.PI * i) / DAY + phase) + sigma * noise(id, channel, i), 0, 100),
  );
}

/** `count` level-shift cases (two thirds up, one third down), deterministic. */
export function levelShiftCases(count: number, future: number): ShapeCase[] {
  const n = SHAPE_HISTORY + future;
  const origin = SHAPE_HISTORY - 1;
  return Array.from({ length: count }, (_, i) => {
    const u = (k: number): number => uniform(SEED, 1, i, k);
    const metric: MetricName = i % 2 ? 'memory' : 'cpu';
    const other: MetricName = metric === 'cpu' ? 'memory' : 'cpu';
    const profile = PROFILE_NAMES[i % PROFILE_NAMES.length]!;
    const up = i % 3 !== 2;
    const delta = 20 + 30 * u(1);
    const after = up ? Math.min(90, 5 + 35 * u(2) + delta) : 20 + 25 * u(2);
    const before = up ? after - delta : Math.min(95, after + delta);
    const hold = 6 + Math.floor(7 * u(3)); // 30–60 min at the new level before the origin
    const at = origin - hold + 1;
    const target = series(n, i, 0, (t) => (t < at ? before : after), 4 * u(4), 1.5);
    const flat = series(n, i, 1, () => 20 + 20 * u(5), 3, 1.5);
    return {
      name: `shift-${String(i).padStart(3, '0')}`,
      kind: up ? 'level shift up' : 'level shift down',
      profile,
      metric,
      values: { [metric]: target, [other]: flat },
      level: after,
    };
  });
}

/** `count` ramp cases towards the profile's critical threshold, deterministic. */
export function rampCases(count: number, future: number): ShapeCase[] {
  const n = SHAPE_HISTORY + future;
  const origin = SHAPE_HISTORY - 1;
  const metrics: MetricName[] = ['memory', 'disk', 'cpu'];
  const pairs = metrics.flatMap((m) => PROFILE_NAMES.filter((p) => DEFAULT_THRESHOLDS[p][m].critical <= 97).map((p) => [p, m] as const));
  return Array.from({ length: count }, (_, i) => {
    const u = (k: number): number => uniform(SEED, 2, i, k);
    const [profile, metric] = pairs[i % pairs.length]!;
    const other: MetricName = metric === 'cpu' ? 'memory' : 'cpu';
    const threshold = DEFAULT_THRESHOLDS[profile][metric].critical;
    const start = 10 + 30 * u(1);
    const before = 12 + Math.floor(25 * u(2)); // ramp under way 1–3 h at the origin
    const crossing = 6 + Math.floor(67 * u(3)); // the line crosses 30 min – 6 h after the origin
    const slope = (threshold - start) / (before + crossing);
    const rampStart = origin - before;
    const target = series(n, i, 10, (t) => start + slope * Math.max(0, t - rampStart), 2 * u(4), 1);
    const flat = series(n, i, 11, () => 20 + 20 * u(5), 3, 1.5);
    return {
      name: `ramp-${String(i).padStart(3, '0')}`,
      kind: 'ramp',
      profile,
      metric,
      values: { [metric]: target, [other]: flat },
      level: threshold,
      crossingStep: crossing,
    };
  });
}

/** Level shift: is the p50 within 25 % of the new level at every step? Also the share of steps that are. */
export function shiftHeld(p50: ArrayLike<number>, level: number, steps: number): { held: boolean; share: number } {
  let inside = 0;
  for (let h = 0; h < steps; h++) if (Math.abs(p50[h]! - level) <= 0.25 * level) inside++;
  return { held: inside === steps, share: inside / steps };
}

/** Ramp: the first step (1-based) at which the p50 reaches the threshold, or undefined. */
export function firstCrossing(p50: ArrayLike<number>, threshold: number, steps: number): number | undefined {
  for (let h = 0; h < steps; h++) if (p50[h]! >= threshold) return h + 1;
  return undefined;
}
