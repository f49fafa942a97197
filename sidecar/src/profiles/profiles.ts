/**
 * Server profiles (README "Profiles"): the names, the metrics and the default thresholds are
 * the contract package's; the instance patterns are defaults the sidecar's config may override.
 */
import { DEFAULT_THRESHOLDS, METRIC_NAMES, PROFILE_NAMES } from '@foresight/contract';
import type { MetricName, ProfileName, ProfileThresholds, Threshold } from '@foresight/contract';

export { DEFAULT_THRESHOLDS, METRIC_NAMES, PERCENT_METRICS, PROFILE_NAMES, isProfileName } from '@foresight/contract';
export type { MetricName, ProfileName, ProfileThresholds, Threshold } from '@foresight/contract';

/** Default ordered instance rules; the first match wins, anything else is `generic`. */
export const DEFAULT_INSTANCE_PATTERNS: ReadonlyArray<{ readonly pattern: string; readonly profile: ProfileName }> = [
  { pattern: '^ppml', profile: 'ml_compute' },
  { pattern: '^ppdb', profile: 'database' },
  { pattern: '^ppweb', profile: 'web_api' },
  { pattern: '^ppcon', profile: 'conductor_mgmt' },
  { pattern: '^ppdi', profile: 'data_ingest' },
  { pattern: '^ppra', profile: 'risk_analytics' },
];

export type ThresholdOverrides = Partial<Record<ProfileName, Partial<Record<MetricName, Partial<Threshold>>>>>;
export type FleetThresholds = Readonly<Record<ProfileName, ProfileThresholds>>;

/** The defaults with the config's overrides (profiles.thresholds) applied key by key. */
export function resolveThresholds(overrides: ThresholdOverrides | undefined): FleetThresholds {
  if (!overrides) return DEFAULT_THRESHOLDS;
  const out = {} as Record<ProfileName, ProfileThresholds>;
  for (const p of PROFILE_NAMES) {
    const perMetric = {} as Record<MetricName, Threshold>;
    for (const m of METRIC_NAMES) {
      const o = overrides[p]?.[m];
      const d = DEFAULT_THRESHOLDS[p][m];
      perMetric[m] = o ? { ...d, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } : d;
    }
    out[p] = perMetric;
  }
  return out;
}
