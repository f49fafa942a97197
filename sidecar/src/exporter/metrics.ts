/**
 * The published series (declared in `@foresight/contract`, which the panel reads them by) and the
 * exporter's own constants.
 */
export { ALL_SERIES, SERIES } from '@foresight/contract';
export type { MetricDef } from '@foresight/contract';

/** Histogram buckets of cycle durations, seconds. */
export const CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300] as const;
