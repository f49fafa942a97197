/**
 * Steady climbs: a least-squares line through the last hour of a series, and whether it is a
 * climb that keeps going (a memory leak, a filling disk). The risk stage escalates on one; the
 * forecast stage continues one (forecast/climb.ts). Pure functions, no I/O.
 */
import type { MetricName } from '../profiles/profiles';
import { currentValue, medianOf, ROBUST_SAMPLES } from './robust';

const HOUR = 3600;

/** Metrics that fill up (memory leaks, disks): a steady climb there keeps going until something gives. */
export const FILLING_METRICS: ReadonlySet<MetricName> = new Set(['memory', 'disk']);
/** How straight the last hour must be (R² of a line through it) to count as a steady climb. */
const STEADY_R2 = 0.8;

/** Least-squares line through the `span` seconds (default an hour) that end at index `end` (exclusive; default: the last sample): slope per second and R² (0 when undefined). */
function lineFit(recent: ArrayLike<number>, step: number, end = recent.length, span = HOUR): { slope: number; r2: number; samples: number } {
  const n = Math.min(end, Math.round(span / step) + 1);
  let k = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let j = 0; j < n; j++) {
    const y = recent[end - n + j]!;
    if (!Number.isFinite(y)) continue;
    const x = j * step;
    k++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    syy += y * y;
  }
  const vx = k * sxx - sx * sx;
  const vy = k * syy - sy * sy;
  if (k < 2 || vx <= 0) return { slope: 0, r2: 0, samples: k };
  const slope = (k * sxy - sx * sy) / vx;
  return { slope, r2: vy <= 0 ? 0 : (k * sxy - sx * sy) ** 2 / (vx * vy), samples: k };
}

/**
 * Seconds until a steady climb reaches `threshold`, extrapolating the last hour linearly (what
 * Prometheus' predict_linear does), or +Inf when the last hour is not a steady climb: too few
 * samples, not rising, not straight (R² < 0.8), or no longer rising over its last 15 minutes.
 * 0 when the value is already there.
 *
 * Why next to the model: the TFT forecasts typical behaviour and reverts to it; on a leak or a
 * disk filling it keeps forecasting recovery until the threshold is crossed (eval:risk showed
 * p90 time-to-breach at +Inf until the crossing). Leaks and fills are exactly the cases where a
 * straight line is the better forecast, so the engine uses both.
 */
export function steadyClimbSeconds(recent: ArrayLike<number>, step: number, threshold: number): number {
  const c = steadyClimb(recent, step);
  if (!c) return Infinity;
  return c.now >= threshold ? 0 : (threshold - c.now) / c.slope;
}

/** The slope per second of a least-squares line through the last `span` seconds, or NaN with fewer than 3 samples. */
export function recentSlope(recent: ArrayLike<number>, step: number, span: number, end = recent.length): number {
  const { slope, samples } = lineFit(recent, step, end, span);
  return samples < 3 ? NaN : slope;
}

/**
 * The slope per second of the same hour one day earlier (the hour ending `day` seconds before the
 * last sample), or undefined when the series does not reach that far back.
 */
export function slopeADayEarlier(recent: ArrayLike<number>, step: number, day = 86400): number | undefined {
  const end = recent.length - Math.round(day / step);
  if (end < Math.round(HOUR / step) + 1) return undefined;
  const { slope, samples } = lineFit(recent, step, end);
  return samples < 2 * ROBUST_SAMPLES ? undefined : slope;
}

/** The steady climb steadyClimbSeconds looks for: the value now and the slope per second, or undefined when there is none. */
export function steadyClimb(recent: ArrayLike<number>, step: number): { now: number; slope: number } | undefined {
  const { slope, r2, samples } = lineFit(recent, step);
  if (samples < 2 * ROBUST_SAMPLES) return undefined;
  const now = currentValue(recent);
  const before = medianOf(recent, recent.length - 2 * ROBUST_SAMPLES, recent.length - ROBUST_SAMPLES);
  if (!(slope > 0) || r2 < STEADY_R2 || !(now > before)) return undefined;
  return { now, slope };
}
