/**
 * The forecasts operators would otherwise use, as pure functions of the history up to the
 * origin (oldest first, last element = value at the origin). Each returns `horizon` values.
 */
export type PointForecast = Float64Array;

/** The last observed value, held flat. */
export function lastValue(history: ArrayLike<number>, horizon: number): PointForecast {
  return new Float64Array(horizon).fill(history[history.length - 1]!);
}

/**
 * The value one season (default one day of 5-minute steps) before each forecast step; undefined
 * when the history is shorter than one season (seasonal naive needs a whole season).
 */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, season = 288): PointForecast | undefined {
  const n = history.length;
  if (n < season) return undefined;
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) {
    // beyond one season ahead, the last season repeats again
    out[h - 1] = history[n - season + ((h - 1) % season)]!;
  }
  return out;
}

/**
 * Least-squares line over the last `window` points, extrapolated: what Prometheus'
 * `predict_linear(v[window], h)` computes.
 */
export function linearExtrapolation(history: ArrayLike<number>, horizon: number, window: number): PointForecast {
  const n = history.length;
  const k = Math.min(window, n);
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let j = 0; j < k; j++) {
    const x = j - (k - 1);
    const y = history[n - k + j]!;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const den = k * sxx - sx * sx;
  const slope = den === 0 ? 0 : (k * sxy - sx * sy) / den;
  const intercept = (sy - slope * sx) / k;
  const out = new Float64Array(horizon);
  for (let h = 1; h <= horizon; h++) out[h - 1] = intercept + slope * h;
  return out;
}

/** Fills NaN gaps by carrying the last value forward (the first values from the first observed one). */
export function fillGaps(history: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(history);
  let first = out.findIndex((v) => Number.isFinite(v));
  if (first < 0) first = 0;
  let last = Number.isFinite(out[first]!) ? out[first]! : 0;
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(out[i]!)) last = out[i]!;
    else out[i] = last;
  }
  return out;
}
