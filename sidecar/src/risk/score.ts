/**
 * Contextual risk: pure functions of (profile thresholds, recent values, forecast) → score,
 * level, drivers, per-horizon predicted risk and time to breach. No I/O, no clock reads.
 *
 * The rules (documented in the README, "Risk scoring"):
 * - level points per metric: a fuzzy membership relative to the profile's thresholds — 0 at
 *   zero, 30 (watch) at warning − (critical − warning) (at least warning / 2), 60 (warning) at the warning threshold,
 *   85 (critical) at the critical threshold, 100 beyond it — times the metric's weight;
 * - trend points: the rise over the last hour (least-squares slope) as a share of the headroom
 *   left to the critical threshold, × 90, at most 30 points;
 * - compound: 0.6 × the points above 40 of every other metric, when several are elevated;
 * - current risk = the worst metric's level + trend, plus compound;
 * - blend = 0.7 × current + 0.3 × predicted (the worst horizon's risk on the p50 forecast);
 * - forecast escalation: p50 crossing critical within 30 min / 1 h / 2 h / 8 h sets a floor of
 *   critical / danger / warning / degrading; a p90 crossing sets the floor one level lower;
 * - predicted risk per horizon: the p50's level points there, and the same floor for a crossing
 *   still ahead of that horizon, by the time left from it (the floor never feeds the blend twice).
 */
import type { MetricName, ProfileThresholds, Threshold } from '../profiles/profiles';
import { METRIC_NAMES, PERCENT_METRICS } from '../profiles/profiles';
import { currentValue, medianOf, ROBUST_SAMPLES } from '../series/robust';
import { FILLING_METRICS, steadyClimbSeconds } from '../series/steady-climb';

/** One metric of one instance: its recent values and, when ready, its forecast. */
export interface MetricInput {
  /** Recent values, oldest first, one per step; the last is "now". NaN = missing. */
  readonly recent: ArrayLike<number>;
  /** [steps × quantiles] forecast in the metric's unit, or undefined when not forecast. */
  readonly forecast?: Float32Array | undefined;
}

export interface RiskInput {
  readonly thresholds: ProfileThresholds;
  readonly metrics: Readonly<Partial<Record<MetricName, MetricInput>>>;
  /** Seconds per step of both recent values and forecast. */
  readonly step: number;
  /** The model's quantiles (forecast columns). */
  readonly quantiles: readonly number[];
  /** Horizons to report predicted risk for: label and step index. */
  readonly horizons: ReadonlyArray<{ readonly label: string; readonly index: number }>;
}

export interface RiskResult {
  readonly score: number;
  /** Points per driver (`<metric>`, `<metric>_trend`, `<metric>_forecast`, `compound`); they add up to the score. */
  readonly drivers: Readonly<Record<string, number>>;
  /** The driver contributing most, or undefined when the score is 0. */
  readonly topDriver: string | undefined;
  /** Risk computed on the p50 forecast at each horizon label. */
  readonly predicted: Readonly<Record<string, number>>;
  /**
   * Seconds until each quantile crosses the metric's critical threshold, +Inf if not within the
   * forecast; by metric, then in the order of `quantiles` (an array, not an object keyed "50",
   * "90": integer-like keys would give each object a ~1 KB elements store, 6 per server).
   */
  readonly timeToBreach: Readonly<Partial<Record<MetricName, readonly number[]>>>;
}

const HOUR = 3600;
/** The most points a trend alone adds. */
const TREND_CAP = 30;

/** Level points (0–100) of a value against a metric's thresholds, before weighting. */
export function levelPoints(v: number, t: Threshold, metric: MetricName): number {
  if (!Number.isFinite(v)) return 0;
  const span = Math.max(1e-9, t.critical - t.warning);
  // where "watch" starts: one threshold gap below warning, but never below half of warning
  // (so a metric with a wide gap, like load 2 → 4, is not on watch at 0.2)
  const watch = Math.max(t.warning - span, t.warning / 2);
  if (v >= t.critical) {
    const top = PERCENT_METRICS.has(metric) ? Math.max(100, t.critical) : t.critical + span;
    return 85 + 15 * Math.min(1, (v - t.critical) / Math.max(1e-9, top - t.critical));
  }
  if (v >= t.warning) return 60 + (25 * (v - t.warning)) / span;
  if (v >= watch) return 30 + (30 * (v - watch)) / span;
  return 30 * Math.max(0, v / watch) ** 2;
}

/**
 * Rise over the last hour in the metric's unit per hour, robust to a single spike: the median of
 * the hour's last three samples minus the median of its first three, over the time between them.
 * (A least-squares slope lets one burst at the end of the hour count as a steep climb; bursty
 * load and network made healthy servers flash "warning" for a cycle that way.)
 */
export function hourlyRise(recent: ArrayLike<number>, step: number): number {
  const n = Math.min(recent.length, Math.round(HOUR / step) + 1);
  if (n < 2 * ROBUST_SAMPLES) return 0;
  const first = recent.length - n;
  const a = medianOf(recent, first, first + ROBUST_SAMPLES);
  const b = medianOf(recent, recent.length - ROBUST_SAMPLES, recent.length);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 0;
  return (b - a) / (((n - ROBUST_SAMPLES) * step) / HOUR);
}

/** Level points at the warning threshold: a trend never lifts a metric past them. */
const TREND_CEILING = 60;

/**
 * Trend points: the hour's rise as a share of the headroom left, × 90, at most TREND_CAP, and
 * never more than what lifts the metric to the edge of warning. A rising metric is "heading
 * somewhere" (watch, degrading); warning takes a warning-level value, a forecast, or a steady
 * climb of memory or disk. (Bursty load and network on healthy servers otherwise reached
 * danger for a cycle or two: a warning-level burst plus its own steep "trend".)
 */
function trendPoints(now: number, rise: number, t: Threshold, metric: MetricName): number {
  if (!(rise > 0) || !Number.isFinite(now)) return 0;
  const headroom = Math.max(t.critical - now, (t.critical - t.warning) * 0.25);
  // capped: a trend alone lifts a server by a level or so (to watch), it never pages on its own;
  // bursts and batch windows ramp fast and are normal
  const room = Math.max(0, TREND_CEILING - levelPoints(now, t, metric));
  return Math.min(TREND_CAP, room, 90 * Math.min(1, rise / headroom));
}

/**
 * Seconds until `column` of the forecast crosses `threshold`, linearly interpolated within a
 * step (from `now` at t = 0); 0 if already there, +Inf if not within the forecast.
 */
export function timeToCross(now: number, forecast: Float32Array, nq: number, column: number, threshold: number, step: number): number {
  if (Number.isFinite(now) && now >= threshold) return 0;
  let prev = now;
  const steps = forecast.length / nq;
  for (let h = 0; h < steps; h++) {
    const v = forecast[h * nq + column]!;
    if (v >= threshold) {
      if (!Number.isFinite(prev)) return (h + 1) * step;
      const frac = v === prev ? 1 : (threshold - prev) / (v - prev);
      return (h + frac) * step;
    }
    prev = v;
  }
  return Infinity;
}

/** Floor on the score from how soon a forecast crosses critical (p50; p90 one level lower). */
export function leadTimeFloor(seconds: number, percentile: 'p50' | 'p90'): number {
  const floors = percentile === 'p50' ? [80, 70, 60, 50] : [70, 60, 50, 30];
  if (seconds <= 30 * 60) return floors[0]!;
  if (seconds <= HOUR) return floors[1]!;
  if (seconds <= 2 * HOUR) return floors[2]!;
  if (seconds <= 8 * HOUR) return floors[3]!;
  return 0;
}

function lastFinite(a: ArrayLike<number>): number {
  for (let i = a.length - 1; i >= Math.max(0, a.length - 3); i--) if (Number.isFinite(a[i]!)) return a[i]!;
  return NaN;
}

export function scoreRisk(input: RiskInput): RiskResult {
  const nq = input.quantiles.length;
  const p50 = input.quantiles.indexOf(0.5);
  const p90 = input.quantiles.indexOf(0.9);
  const per: Array<{ metric: MetricName; level: number; trend: number }> = [];
  const timeToBreach: Partial<Record<MetricName, number[]>> = {};
  const predicted: Record<string, number> = Object.fromEntries(input.horizons.map((h) => [h.label, 0]));
  let predictedWorst = 0;
  let predictedMetric: MetricName | undefined;
  let floor = 0;
  let floorDriver: string | undefined;
  for (const metric of METRIC_NAMES) {
    const m = input.metrics[metric];
    if (!m) continue;
    const t = input.thresholds[metric];
    const w = t.weight ?? 1;
    const now = lastFinite(m.recent);
    const steady = currentValue(m.recent);
    per.push({ metric, level: w * levelPoints(steady, t, metric), trend: w * trendPoints(steady, hourlyRise(m.recent, input.step), t, metric) });
    if (w >= 0.5 && FILLING_METRICS.has(metric)) {
      // a steady climb towards critical counts like a p90 crossing: one level below a p50 one
      const f = leadTimeFloor(steadyClimbSeconds(m.recent, input.step, t.critical), 'p90');
      if (f > floor) {
        floor = f;
        floorDriver = `${metric}_trend`;
      }
    }
    if (!m.forecast) continue;
    const ttb = input.quantiles.map((_, k) => timeToCross(now, m.forecast!, nq, k, t.critical, input.step));
    timeToBreach[metric] = ttb;
    if (w === 0) continue;
    for (const h of input.horizons) {
      const r = w * levelPoints(m.forecast[h.index * nq + p50]!, t, metric);
      if (r > predicted[h.label]!) predicted[h.label] = r;
      if (r > predictedWorst) {
        predictedWorst = r;
        predictedMetric = metric;
      }
    }
    if (w >= 0.5) {
      // the predicted risk at a horizon is what the engine would say then: a crossing still ahead
      // of that horizon earns the lead-time floor its remaining time earns (so a server heading
      // for a breach at 2 h reads warning at +30m and danger at +1h, never "healthy" before it)
      for (const h of input.horizons) {
        const at = (h.index + 1) * input.step;
        const ahead = (k: number): number => ttb[k]! - at;
        const f = Math.max(
          p50 >= 0 && ahead(p50) > 0 ? leadTimeFloor(ahead(p50), 'p50') : 0,
          p90 >= 0 && ahead(p90) > 0 ? leadTimeFloor(ahead(p90), 'p90') : 0,
        );
        if (f > predicted[h.label]!) predicted[h.label] = f;
      }
      const f50 = p50 >= 0 ? leadTimeFloor(ttb[p50]!, 'p50') : 0;
      const f90 = p90 >= 0 ? leadTimeFloor(ttb[p90]!, 'p90') : 0;
      if (Math.max(f50, f90) > floor) {
        floor = Math.max(f50, f90);
        floorDriver = `${metric}_forecast`;
      }
    }
  }
  per.sort((a, b) => b.level + b.trend - (a.level + a.trend));
  const top = per[0];
  const compound = per.slice(1).reduce((s, p) => s + 0.6 * Math.max(0, p.level - 40), 0);
  const current = Math.min(100, (top ? top.level + top.trend : 0) + compound);
  // instances without a forecast (not enough history) are scored on current state only
  const forecastSeen = METRIC_NAMES.some((m) => input.metrics[m]?.forecast);
  const blend = forecastSeen ? 0.7 * current + 0.3 * predictedWorst : current;
  const score = Math.min(100, Math.max(blend, floor));
  // drivers: each part's share of the score; they add up to it
  const drivers: Record<string, number> = {};
  const add = (name: string, v: number): void => {
    if (v > 0) drivers[name] = (drivers[name] ?? 0) + v;
  };
  const scaleCurrent = current > 0 ? ((forecastSeen ? 0.7 : 1) * current) / ((top ? top.level + top.trend : 0) + compound) : 0;
  if (top) {
    add(top.metric, top.level * scaleCurrent);
    add(`${top.metric}_trend`, top.trend * scaleCurrent);
  }
  add('compound', compound * scaleCurrent);
  if (predictedMetric) add(`${predictedMetric}_forecast`, 0.3 * predictedWorst);
  if (score > blend && floorDriver) add(floorDriver, score - blend);
  if (blend > 100) for (const k of Object.keys(drivers)) drivers[k] = (drivers[k]! * 100) / blend;
  const topDriver = Object.entries(drivers).sort((a, b) => b[1] - a[1])[0]?.[0];
  return { score, drivers, topDriver, predicted, timeToBreach };
}
