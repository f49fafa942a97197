/**
 * Server profiles (README "Profiles"): the names are a contract, the thresholds are defaults
 * that the sidecar's config may override (the panel draws the defaults as the cones' lines).
 *
 * Thresholds are in each metric's own unit (see `METRICS` in the sidecar's source/promql.ts): percent for
 * cpu, memory, disk and iowait; load1 per core for load; bytes per second for network.
 */

/** The metrics Foresight forecasts by default, in publication order. */
export const METRIC_NAMES = ['cpu', 'memory', 'disk', 'iowait', 'load', 'network'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const PROFILE_NAMES = ['ml_compute', 'database', 'web_api', 'conductor_mgmt', 'data_ingest', 'risk_analytics', 'generic'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface Threshold {
  /** Value at which the metric starts to matter for this profile. */
  readonly warning: number;
  /** Value at which the metric is an incident for this profile. */
  readonly critical: number;
  /** How much the metric counts for this profile's risk, 0–1 (default 1). */
  readonly weight?: number;
}

export type ProfileThresholds = Readonly<Record<MetricName, Threshold>>;

/** 1 GbE carries about 125 MB/s; defaults assume that NIC. */
const NET_WARN = 80e6;
const NET_CRIT = 110e6;

/**
 * Default thresholds per profile. The reasoning for each is in the README ("Profiles").
 * A critical threshold above the metric's range (e.g. cpu 101 for ml_compute) means
 * "never an incident by itself": training runs at 100% CPU are the job, not a fault.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<ProfileName, ProfileThresholds>> = {
  ml_compute: {
    // training runs at ~100 % CPU are the job: CPU never drives an ml_compute risk
    cpu: { warning: 100, critical: 101, weight: 0 },
    memory: { warning: 92, critical: 98 },
    disk: { warning: 85, critical: 95 },
    iowait: { warning: 25, critical: 50 },
    load: { warning: 2, critical: 4 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
  database: {
    cpu: { warning: 75, critical: 90 },
    // buffer pools keep memory near 100 % by design; only the last fraction of a percent matters
    memory: { warning: 99.5, critical: 99.9, weight: 0.3 },
    disk: { warning: 80, critical: 90 },
    iowait: { warning: 15, critical: 30 },
    load: { warning: 1.5, critical: 3 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
  web_api: {
    cpu: { warning: 70, critical: 85 },
    memory: { warning: 85, critical: 95 },
    disk: { warning: 85, critical: 95 },
    iowait: { warning: 15, critical: 30 },
    load: { warning: 1, critical: 2 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
  conductor_mgmt: {
    cpu: { warning: 50, critical: 75 },
    memory: { warning: 70, critical: 85 },
    disk: { warning: 80, critical: 90 },
    iowait: { warning: 10, critical: 25 },
    load: { warning: 0.7, critical: 1.5 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
  data_ingest: {
    cpu: { warning: 80, critical: 95 },
    memory: { warning: 85, critical: 95 },
    // the landing zone fills to ~80 % before compaction every day and a half: that is normal
    disk: { warning: 85, critical: 95 },
    iowait: { warning: 20, critical: 40 },
    load: { warning: 1.5, critical: 3 },
    network: { warning: 90e6, critical: 115e6 },
  },
  risk_analytics: {
    // nightly batch windows run near 100 % CPU: normal, and weighted down
    cpu: { warning: 99, critical: 101, weight: 0.3 },
    memory: { warning: 88, critical: 95 },
    disk: { warning: 85, critical: 95 },
    iowait: { warning: 20, critical: 40 },
    load: { warning: 2, critical: 4 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
  generic: {
    cpu: { warning: 80, critical: 95 },
    memory: { warning: 85, critical: 95 },
    disk: { warning: 85, critical: 95 },
    iowait: { warning: 20, critical: 40 },
    load: { warning: 1.5, critical: 3 },
    network: { warning: NET_WARN, critical: NET_CRIT },
  },
};

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

/** Metrics published as percentages, bounded to 0–100 everywhere they are published. */
export const PERCENT_METRICS: ReadonlySet<MetricName> = new Set(['cpu', 'memory', 'disk', 'iowait']);
