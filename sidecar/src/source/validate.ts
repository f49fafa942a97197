/**
 * Input checks for sample values, per metric kind: what the source publishes and forecasts from
 * is only what passes here. A value that fails is dropped (a gap, as if never scraped) and
 * counted by reason; it never reaches the model, the risk engine or /metrics.
 *
 * Prometheus sends sample values as strings ("12.5", "NaN", "+Inf"); `parseSampleValue` reads
 * them strictly, so "", "null", "true", "0x10" or a JSON number are junk, not 0, 1 or 16.
 */
import type { MetricName } from '../profiles/profiles';
import { METRICS } from './promql';

/** Why a sample was dropped. */
export type DropReason = 'non_finite' | 'invalid' | 'out_of_range';
export const DROP_REASONS: readonly DropReason[] = ['non_finite', 'invalid', 'out_of_range'];

/**
 * Percent metrics may stray this far outside 0–100 (counter rates over jittery scrapes: a CPU
 * at 100.4 % busy); they are clamped into 0–100. Beyond it a value is out of range.
 */
export const PERCENT_TOLERANCE = 1;
/** The largest value the model's float32 inputs can hold. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A decimal float as Prometheus and its compatibles print them, or NaN / ±Inf. */
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN)$/;

/**
 * A sample value from a query answer: a number for a well-formed string, NaN (not a number at
 * all) for anything else. `invalid` says which NaNs were junk rather than the string "NaN".
 */
export function parseSampleValue(raw: unknown): { value: number; invalid: boolean } {
  if (typeof raw !== 'string' || !FLOAT.test(raw)) return { value: NaN, invalid: true };
  if (raw === 'NaN') return { value: NaN, invalid: false };
  const t = raw.replace(/^([+-]?)[Ii]nf$/, '$1Infinity');
  return { value: Number(t), invalid: false };
}

/** The value to keep for `metric` (clamped into range when within tolerance), or why it is dropped. */
export function checkValue(metric: MetricName, x: number): number | DropReason {
  if (!Number.isFinite(x)) return 'non_finite';
  if (Math.abs(x) > FLOAT32_MAX) return 'out_of_range';
  if (METRICS[metric].unit === 'percent') {
    if (x < -PERCENT_TOLERANCE || x > 100 + PERCENT_TOLERANCE) return 'out_of_range';
    return Math.min(100, Math.max(0, x));
  }
  // load per core and bytes per second are rates of non-negative things
  if (x < 0) return 'out_of_range';
  return x;
}
