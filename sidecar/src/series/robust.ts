/**
 * Robust summaries of a recent series (oldest first, one value per step, NaN = missing): what a
 * value "is now" when one spike must not count as a state. Shared by the forecast stage (climb
 * continuation) and the risk stage (scoring), so it lives below both.
 */

/** Samples the "current" value and the ends of a trend are medians of: 15 minutes at 5-minute steps. */
export const ROBUST_SAMPLES = 3;

/** Median of the finite values in a[from, to). NaN when there are none. */
export function medianOf(a: ArrayLike<number>, from: number, to: number): number {
  const v: number[] = [];
  for (let i = Math.max(0, from); i < Math.min(a.length, to); i++) if (Number.isFinite(a[i]!)) v.push(a[i]!);
  if (v.length === 0) return NaN;
  v.sort((x, y) => x - y);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** The value a level is scored on: the median of the last three samples, so one spike is not a state. */
export function currentValue(recent: ArrayLike<number>): number {
  return medianOf(recent, recent.length - ROBUST_SAMPLES, recent.length);
}
