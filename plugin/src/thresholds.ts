/**
 * The profiles' default thresholds, from the contract package's table (the sidecar's too; the
 * build bundles it): the lines the cones draw.
 */
import { DEFAULT_THRESHOLDS, isProfileName, METRIC_NAMES } from '@foresight/contract';
import type { Thresholds } from './prepare/cones';

/** A profile's (unknown profiles: generic's) warning and critical thresholds for a metric; undefined where none are drawn. */
export function thresholdsFor(): (profile: string, metric: string) => Thresholds | undefined {
  return (profile, metric) => {
    const p = isProfileName(profile) ? profile : 'generic';
    const d = (METRIC_NAMES as readonly string[]).includes(metric)
      ? DEFAULT_THRESHOLDS[p][metric as (typeof METRIC_NAMES)[number]]
      : undefined;
    // weight 0: the metric does not count for this profile (ml_compute CPU): no lines to draw
    if (!d || d.weight === 0) {
      return undefined;
    }
    return { warning: d.warning, critical: d.critical };
  };
}
