/**
 * The sidecar's own JSON (`/api/v1/fleet` and `/api/v1/instances/{instance}/forecast`) → the
 * series a Prometheus query would return, so the preview page runs the same prepare functions
 * and components as the Grafana panel.
 */
import type { SeriesInput } from './series';
import type { FleetSourceJson } from './prepare/source';
import { SERIES } from '@foresight/contract';

export interface FleetJson {
  readonly origin: number | null;
  readonly stale: boolean;
  /** Unix seconds of the last successful cycle. */
  readonly lastSuccess?: number | null;
  /** Which source the sidecar reads and whether it answers (absent from older sidecars). */
  readonly source?: FleetSourceJson;
  readonly instances: ReadonlyArray<{
    readonly instance: string;
    readonly profile: string;
    readonly ready: boolean;
    /** fresh | stale | unknown, and the last good data (unix seconds); absent from older sidecars. */
    readonly state?: 'fresh' | 'stale' | 'unknown';
    readonly dataAt?: number | null;
    readonly score?: number;
    readonly drivers?: Readonly<Record<string, number>>;
    readonly predicted?: Readonly<Record<string, number>>;
    /** [unix seconds, score] per recent cycle. */
    readonly recent?: ReadonlyArray<readonly [number, number]>;
  }>;
}

export interface ForecastJson {
  readonly instance: string;
  readonly profile: string;
  readonly origin: number;
  readonly step: number;
  readonly metrics: Readonly<
    Record<
      string,
      {
        readonly history: ReadonlyArray<readonly [number, number | null]>;
        readonly forecast: {
          readonly times: readonly number[];
          readonly quantiles: Readonly<Record<string, ReadonlyArray<number | null>>>;
        } | null;
      }
    >
  >;
}

export function fleetSeries(fleet: FleetJson): SeriesInput[] {
  const out: SeriesInput[] = [];
  if (fleet.origin === null) {
    return out;
  }
  const at = fleet.origin * 1000;
  for (const i of fleet.instances) {
    const base = { instance: i.instance, profile: i.profile };
    if (i.state !== 'unknown') {
      out.push({ name: SERIES.instanceReady.name, labels: base, times: [at], values: [i.ready ? 1 : 0] });
    }
    if (i.state !== undefined) {
      // as Prometheus would hold them: stale 0 at the last good data, then 1 while carried over
      const good =
        i.state !== 'fresh' && typeof i.dataAt === 'number' && i.dataAt < fleet.origin ? i.dataAt * 1000 : undefined;
      out.push({
        name: SERIES.instanceStale.name,
        labels: base,
        times: good !== undefined ? [good, at] : [at],
        values: good !== undefined ? [0, i.state === 'fresh' ? 0 : 1] : [i.state === 'fresh' ? 0 : 1],
      });
      out.push({
        name: SERIES.instanceUnknown.name,
        labels: base,
        times: [at],
        values: [i.state === 'unknown' ? 1 : 0],
      });
    }
    let recent =
      i.recent && i.recent.length > 0 ? i.recent : i.score !== undefined ? [[fleet.origin, i.score] as const] : [];
    const newest = recent[recent.length - 1];
    if (i.state === 'stale' && i.score !== undefined && newest !== undefined && newest[0] < fleet.origin) {
      // `recent` holds fresh cycles only; /metrics keeps publishing the last good score while stale
      recent = [...recent, [fleet.origin, i.score] as const];
    }
    out.push({
      name: SERIES.riskScore.name,
      labels: base,
      times: recent.map(([t]) => t * 1000),
      values: recent.map(([, v]) => v),
    });
    for (const [horizon, score] of Object.entries(i.predicted ?? {})) {
      out.push({ name: SERIES.predictedRiskScore.name, labels: { ...base, horizon }, times: [at], values: [score] });
    }
    for (const [driver, points] of Object.entries(i.drivers ?? {})) {
      out.push({ name: SERIES.riskDriver.name, labels: { ...base, driver }, times: [at], values: [points] });
    }
  }
  return out;
}

/** Full-resolution forecasts: every step becomes a horizon ("5m", "10m", …). */
export function forecastSeries(f: ForecastJson): SeriesInput[] {
  const out: SeriesInput[] = [];
  const at = f.origin * 1000;
  for (const [metric, m] of Object.entries(f.metrics)) {
    const base = { instance: f.instance, profile: f.profile, metric };
    out.push({
      name: SERIES.metricValue.name,
      labels: base,
      times: m.history.map(([t]) => t * 1000),
      values: m.history.map(([, v]) => v),
    });
    if (!m.forecast) {
      continue;
    }
    const times = m.forecast.times;
    for (const [percentile, values] of Object.entries(m.forecast.quantiles)) {
      times.forEach((t, k) => {
        out.push({
          name: SERIES.forecast.name,
          labels: { ...base, percentile, horizon: `${Math.round((t - f.origin) / 60)}m` },
          times: [at],
          values: [values[k] ?? null],
        });
      });
    }
  }
  return out;
}
