/**
 * Climb continuation: on memory, disk or CPU in a steady climb towards its critical threshold,
 * the published forecast follows the climb instead of the model's reversion. A documented
 * fallback beside the model, with its own measured effect.
 *
 * Why: the TFT learnt from real hosts, whose climbs mostly stop. It holds a level that stepped
 * up, but on a memory leak, a filling disk or a runaway CPU its p50 still bends away from the
 * line more often than not (`npm run eval`, "Level shifts and ramps": the share of held-out
 * ramps that cross in time by the model alone, and as served with this rule), so without it the
 * early warning operators deploy Foresight for would come late. A leak is the one case where a
 * straight line (Prometheus' predict_linear) is the better forecast; the risk engine already
 * escalates on filling metrics (series/steady-climb.ts steadyClimbSeconds), and the forecast
 * says the same thing, so time to breach, predicted risk and the cones agree.
 *
 * Rule: when the last hour is a steady climb (least-squares line with R² ≥ 0.8, still rising
 * over the last 15 minutes; see steadyClimb), on CPU each of its halves climbed at least half as
 * steeply as the whole hour (a ramp, not a step: a level that stepped up is the model's, which
 * holds it), that line reaches the profile's critical threshold within the 8 h forecast, AND the same hour
 * yesterday did not climb at least half as steeply (where the history reaches back a day), the line from the current value is extended over the
 * forecast; wherever it is above the model's p50, every quantile at that step moves up by the
 * difference (the band keeps its width, the order of the quantiles is kept) and is capped at
 * 100 %. It never lowers a forecast.
 *
 * Why only towards a crossing: on ordinary climbs (a working day filling memory, a disk growing
 * slowly) the model is the better forecast. Continuing every steady climb was tried: on the
 * held-out simulator servers it raised 168 of 1,230 windows and made the 2 h / 4 h / 8 h MASE
 * worse (0.602 → 0.661, 0.714 → 0.784, 1.090 → 1.132) and the p10–p90 coverage lower.
 *
 * Why not yesterday's rhythm: a climb that happened at this hour yesterday too is the daily
 * pattern (the morning ramp of a web tier), which the model forecasts from its day and week
 * lags, and which stops; CPU climbs are mostly that. A climb that yesterday did not have is a
 * change, and the line is the forecast that warns in time.
 *
 * Why the halves, on CPU only: CPU follows demand, which steps. `npm run eval:risk`'s healthy day
 * has a web server whose CPU stepped from 16 % to 34 % within ten minutes and then crept to 37 %;
 * the hour's line (R² above 0.8, 28 %/h) made it a warning it never became (0.05–0.11 false
 * warnings per server-day; with the halves 0). Memory and disk fill, and the check costs a fresh
 * leak 5–15 minutes of warning (its first half-hour is still flat), so they go without it, as
 * the rule always had.
 *
 * Why 8 h (it was 4 h, memory and disk only): the evaluation's held-out ramps cross their
 * threshold 30 min to 6 h ahead, on memory, disk and CPU; with a 4 h reach and no CPU the rule
 * could serve at most about half of them. What it touches on real and simulated hosts is in
 * EVAL.md ("climb continuation changed the served forecast in … windows"), with the MASE it
 * is scored at.
 */
import type { MetricName } from '../profiles/profiles';
import { PERCENT_METRICS } from '../profiles/profiles';
import { FILLING_METRICS, recentSlope, slopeADayEarlier, steadyClimb } from '../series/steady-climb';

/** How far ahead the climb is followed: the whole forecast (8 h at 5-minute steps). */
export const CLIMB_HORIZON_SECONDS = 8 * 3600;
/** Metrics whose climbs are continued: the filling ones and CPU (a runaway: a retry storm, a growing queue). */
export const CLIMB_METRICS: ReadonlySet<MetricName> = new Set(['memory', 'disk', 'cpu']);
/** A climb at least this share as steep at the same hour yesterday is the daily rhythm, the model's job. */
const RHYTHM_SHARE = 0.5;
/** On CPU, each half of the hour must climb at least this share of the hour's slope: a ramp, not a step (a level shift is the model's job). */
const HALF_SHARE = 0.5;

/**
 * Whether both halves of the last hour climbed at a good part of the hour's pace (least-squares
 * slopes of each 30 minutes against the hour's): a step inside the hour, or a step followed by a
 * slow creep, fits a line with a high R² too, but it is a new level, not a climb that goes on.
 */
function risesThroughout(recent: ArrayLike<number>, step: number, slope: number): boolean {
  const half = 1800;
  const late = recentSlope(recent, step, half);
  const early = recentSlope(recent, step, half, recent.length - Math.round(half / step));
  return late >= HALF_SHARE * slope && early >= HALF_SHARE * slope;
}

/**
 * Applies the rule to one series' forecast `q` ([steps × quantiles], metric units, monotone) in
 * place. `recent`: its values up to the forecast origin, oldest first, one per step; `critical`:
 * the profile's critical threshold for the metric. True when the forecast was raised anywhere.
 */
export function continueSteadyClimb(
  q: Float32Array,
  recent: ArrayLike<number>,
  metric: MetricName,
  step: number,
  quantiles: readonly number[],
  critical: number,
): boolean {
  if (!CLIMB_METRICS.has(metric)) return false;
  const p50 = quantiles.indexOf(0.5);
  if (p50 < 0) return false;
  const c = steadyClimb(recent, step);
  if (!c || c.now + c.slope * CLIMB_HORIZON_SECONDS < critical || (!FILLING_METRICS.has(metric) && !risesThroughout(recent, step, c.slope))) return false;
  const yesterday = slopeADayEarlier(recent, step);
  if (yesterday !== undefined && yesterday >= RHYTHM_SHARE * c.slope) return false;
  const nq = quantiles.length;
  const steps = q.length / nq;
  const hi = PERCENT_METRICS.has(metric) ? 100 : Infinity;
  let raised = false;
  for (let h = 0; h < steps; h++) {
    const ahead = Math.min((h + 1) * step, CLIMB_HORIZON_SECONDS);
    const d = c.now + c.slope * ahead - q[h * nq + p50]!;
    if (!(d > 0)) continue;
    raised = true;
    for (let k = 0; k < nq; k++) q[h * nq + k] = Math.min(hi, q[h * nq + k]! + d);
  }
  return raised;
}
