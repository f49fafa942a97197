/**
 * The contract the sidecar and the Grafana panel share: the severity levels, the profiles and
 * their default thresholds, Prometheus durations, label escaping and the fleet JSON's source
 * state, and the names, types and labels of every published series. Both import it by name (`@foresight/contract`); what is here is published behaviour, so
 * a change here is a change users see on both sides.
 */
export { formatDuration, parseDuration } from './duration';
export { escapeLabelValue } from './labels';
export { LEVELS, levelOf } from './levels';
export { DEFAULT_THRESHOLDS, METRIC_NAMES, PERCENT_METRICS, PROFILE_NAMES, isProfileName } from './profiles';
export type { MetricName, ProfileName, ProfileThresholds, Threshold } from './profiles';
export type { FleetSourceJson } from './fleet';
export { ALL_SERIES, SERIES } from './series';
export type { MetricDef } from './series';
