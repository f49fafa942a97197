/**
 * Risk for a whole cycle: each instance's recent values and forecasts scored with the profile's
 * thresholds, then hysteresis on the level. Pure apart from the `previous` levels it is handed.
 */
import type { MetricName, ProfileName, ProfileThresholds } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import type { InstanceForecast } from '../forecast/forecaster';
import type { MetricInput, RiskResult } from './score';
import { scoreRisk } from './score';
import { levelWithHysteresis } from './levels';

export interface InstanceRisk extends RiskResult {
  readonly level: number;
}

/** Values of the last hour and a bit (13 steps of 5 min) feed the trend. */
const RECENT_STEPS = 13;

export function assessFleet(
  window: HistoryWindow,
  instances: readonly InstanceForecast[],
  thresholds: (profile: ProfileName) => ProfileThresholds,
  quantiles: readonly number[],
  horizons: ReadonlyArray<{ readonly label: string; readonly index: number }>,
  previous: ReadonlyMap<string, number>,
): Map<string, InstanceRisk> {
  const out = new Map<string, InstanceRisk>();
  for (const inst of instances) {
    const values = window.instances.get(inst.instance) ?? {};
    const metrics: Partial<Record<MetricName, MetricInput>> = {};
    for (const m of METRIC_NAMES) {
      const v = values[m];
      if (!v) continue;
      metrics[m] = { recent: v.subarray(Math.max(0, v.length - RECENT_STEPS)), forecast: inst.forecasts[m]?.quantiles };
    }
    const r = scoreRisk({ thresholds: thresholds(inst.profile), metrics, step: window.step, quantiles, horizons });
    out.set(inst.instance, { ...r, level: levelWithHysteresis(r.score, previous.get(inst.instance)) });
  }
  return out;
}
