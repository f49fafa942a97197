/**
 * Climb continuation: on a filling metric (memory, disk) in a steady climb, the published
 * forecast follows the climb for the next four hours instead of the model's reversion.
 *
 * Why: the TFT learnt from real hosts, whose climbs mostly stop. It now holds a level that
 * stepped up, but on a memory leak or a filling disk its p50 still bends away from the line more
 * often than not (in `npm run eval`, 22 % of the synthetic ramps cross in time by the model
 * alone, 48 % with this rule), so without it the early warning operators deploy Foresight for
 * would come late (with the first models, ForesightBreachPredicted never fired before a crossing). A leak is the one case where a straight line (Prometheus' predict_linear)
 * is the better forecast; the risk engine already escalated on it (series/steady-climb.ts
 * steadyClimbSeconds), and the forecast now says the same thing, so time to breach, predicted
 * risk and the cones agree.
 *
 * Rule: when the last hour of memory or disk is a steady climb (least-squares line with
 * R² ≥ 0.8, still rising over the last 15 minutes; see steadyClimb) AND that line reaches the
 * profile's critical threshold within 4 h, the line from the current value is extended up to
 * 4 h ahead and held there; wherever it is above the model's p50, every quantile at that step
 * moves up by the difference (the band keeps its width, the order of the quantiles is kept)
 * and is capped at 100 %. It never lowers a forecast.
 *
 * Why only towards a near crossing: on ordinary climbs (a working day filling memory, a disk
 * growing slowly) the model is the better forecast. Continuing every steady climb was tried:
 * on the held-out simulator servers it raised 168 of 1,230 windows and made the 2 h / 4 h / 8 h
 * MASE worse (0.602 → 0.661, 0.714 → 0.784, 1.090 → 1.132) and the p10–p90 coverage lower.
 * Missing a leak that breaches within hours costs an outage; the rule spends its accuracy only
 * there. `npm run eval` scores the forecasts with it applied (models/foresight-tft/EVAL.md).
 *
 * Why four hours, not two: the risk engine turns a p50 crossing within 2 h into warning *now*
 * (risk/score.ts leadTimeFloor). With a 2 h reach the predicted columns of the heatmap could
 * only turn warm in the same cycle as the current one, never before it; with 4 h a leak that
 * will breach in 2–4 h shows as critical at the 3h/4h horizons while the server is still
 * degrading now, which is the early view the heatmap exists for. What it touches: on the
 * evaluation's windows (every 96 steps, held-out hosts), the 4 h trigger holds in 2 of ~1,260
 * simulator windows and 0 of 917 real-host windows (the 2 h trigger: 0 and 0).
 */
import type { MetricName } from '../profiles/profiles';
import { PERCENT_METRICS } from '../profiles/profiles';
import { FILLING_METRICS, steadyClimb } from '../series/steady-climb';

/** How far ahead the climb is followed; beyond it the forecast holds the value reached. */
export const CLIMB_HORIZON_SECONDS = 4 * 3600;

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
  if (!FILLING_METRICS.has(metric)) return false;
  const p50 = quantiles.indexOf(0.5);
  if (p50 < 0) return false;
  const c = steadyClimb(recent, step);
  if (!c || c.now + c.slope * CLIMB_HORIZON_SECONDS < critical) return false;
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
