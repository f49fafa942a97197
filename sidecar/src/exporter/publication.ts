/**
 * Which of a server's optional series /metrics publishes (the config's `exporter` section): the
 * cardinality budget. By default a server costs at most 51 series, what the shipped rules,
 * dashboards and panel read; `exporter.full` publishes every one (162 plus one per driver).
 */
import type { Config } from '../config/schema';
import { parseDuration } from '@foresight/contract';

export interface Publication {
  /** Horizon labels at which foresight_forecast is published. */
  readonly forecastHorizons: ReadonlySet<string>;
  /** Percentile labels at which foresight_time_to_breach_seconds is published. */
  readonly breachPercentiles: ReadonlySet<string>;
  /** Each server's largest drivers, at most this many (Infinity: every driver). */
  readonly drivers: number;
}

/** Drivers published by default: as many as the panel's tooltip shows. */
export const DEFAULT_DRIVERS = 3;
/** Time-to-breach percentiles published by default: the rules read p50, the server dashboard p50 and p90. */
export const DEFAULT_BREACH_PERCENTILES: readonly number[] = [50, 90];

/** A horizon or percentile as published: its label value. */
interface Labelled {
  readonly label: string;
}

/**
 * The publication a config asks for, over the horizons and percentiles it forecasts (the config
 * schema has checked that the exporter's lists name only those).
 */
export function publicationOf(o: Config['exporter'], horizons: readonly Labelled[], percentiles: readonly Labelled[]): Publication {
  if (o.full) {
    return { forecastHorizons: new Set(horizons.map((h) => h.label)), breachPercentiles: new Set(percentiles.map((p) => p.label)), drivers: Infinity };
  }
  // the longest horizon: where the cones end
  const longest = horizons.reduce<Labelled | undefined>(
    (a, h) => (a === undefined || (parseDuration(h.label) ?? 0) > (parseDuration(a.label) ?? 0) ? h : a),
    undefined,
  );
  const forecastHorizons = o.forecast_horizons ?? (longest ? [longest.label] : []);
  const published = new Set(percentiles.map((p) => p.label));
  const breach = (o.time_to_breach_percentiles ?? DEFAULT_BREACH_PERCENTILES).map(String).filter((p) => published.has(p));
  return { forecastHorizons: new Set(forecastHorizons), breachPercentiles: new Set(breach), drivers: o.drivers ?? DEFAULT_DRIVERS };
}
