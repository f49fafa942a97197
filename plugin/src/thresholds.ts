/**
 * The profiles' default thresholds, from the sidecar's own table (one source of truth; the
 * build bundles it). Panel options can override them for a fleet whose foresight.yml does.
 */
import { DEFAULT_THRESHOLDS, isProfileName, METRIC_NAMES } from '../../sidecar/src/profiles/profiles';
import type { Thresholds } from './prepare/cones';

export type ThresholdOverrides = Readonly<Record<string, Readonly<Record<string, Partial<Thresholds>>>>>;

export function thresholdsFor(overrides: ThresholdOverrides | undefined): (profile: string, metric: string) => Thresholds | undefined {
  return (profile, metric) => {
    const p = isProfileName(profile) ? profile : 'generic';
    const d = (METRIC_NAMES as readonly string[]).includes(metric) ? DEFAULT_THRESHOLDS[p][metric as (typeof METRIC_NAMES)[number]] : undefined;
    const o = overrides?.[p]?.[metric];
    if (d?.weight === 0 && !o) {
      // the metric does not count for this profile (ml_compute CPU): no lines to draw
      return undefined;
    }
    const warning = o?.warning ?? d?.warning;
    const critical = o?.critical ?? d?.critical;
    return warning === undefined || critical === undefined ? undefined : { warning, critical };
  };
}
