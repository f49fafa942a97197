/**
 * Forecast cones as data: for each instance and metric, the recent history
 * (`foresight_metric_value`), nested bands paired by `percentile` from the latest
 * `foresight_forecast` samples (5–95, 10–90, 25–75 when present), the p50 line, the profile's
 * thresholds, and the p50's crossing of the critical threshold: the sidecar's own
 * `foresight_time_to_breach_seconds{percentile="50"}` when it is queried (exact at the model's
 * resolution, however few horizons are published), else the first crossing interpolated between
 * horizons. Forecasts are published at "now" with a `horizon` label; here they are placed at
 * now + horizon.
 */
import { type SeriesInput, durationSeconds, lastGoodAt, lastValue } from '../series';
import { SERIES } from '@foresight/contract';

export interface Point {
  /** Unix ms. */
  readonly t: number;
  readonly v: number;
}

export interface Band {
  readonly lower: number;
  readonly upper: number;
  /** The band as a closed polygon: upper edge forward in time, lower edge back. */
  readonly polygon: readonly Point[];
}

export interface Thresholds {
  readonly warning: number;
  readonly critical: number;
}

export interface Cone {
  readonly instance: string;
  readonly profile: string;
  readonly metric: string;
  /** Unix ms: the forecast origin (newest history sample). */
  readonly now: number;
  readonly history: readonly Point[];
  /** Outermost first, so drawing in order leaves the inner bands on top. */
  readonly bands: readonly Band[];
  /** The median forecast, starting at the last observed value. */
  readonly p50: readonly Point[];
  readonly thresholds?: Thresholds;
  /**
   * The p50's crossing of the critical threshold: from `foresight_time_to_breach_seconds` when in
   * the data, else the first crossing interpolated between horizons.
   */
  readonly breach?: { readonly t: number; readonly seconds: number };
}

export interface ConeOptions {
  /** Instances to draw; all when empty. */
  readonly instances?: readonly string[];
  /** Metrics to draw; all when empty. */
  readonly metrics?: readonly string[];
  readonly horizons?: readonly string[];
  /** profile → metric → thresholds, for the threshold lines and the breach marker. */
  readonly thresholds?: (profile: string, metric: string) => Thresholds | undefined;
}

/** Why an instance asked for has no cones. */
export type NoForecastReason = 'too-little-history' | 'not-in-data' | 'unknown';

export interface ConeSet {
  /** By instance (natural order), then metric. */
  readonly cones: readonly Cone[];
  /** Instances asked for that have no forecast, and why. */
  readonly missing: ReadonlyArray<{ readonly instance: string; readonly reason: NoForecastReason }>;
  /**
   * Drawn instances whose `foresight_instance_stale` is 1: their cones are the last good
   * forecasts. dataAt: unix ms of the last good data (null when not in the data); at: the newest
   * sample of the stale series (for "n min ago").
   */
  readonly stale?: ReadonlyArray<{ readonly instance: string; readonly dataAt: number | null; readonly at: number }>;
}

export const METRIC_VALUE = SERIES.metricValue.name;
export const FORECAST = SERIES.forecast.name;
export const INSTANCE_READY = SERIES.instanceReady.name;
export const INSTANCE_UNKNOWN = SERIES.instanceUnknown.name;
export const INSTANCE_STALE = SERIES.instanceStale.name;
export const TIME_TO_BREACH = SERIES.timeToBreach.name;

/** Percentile pairs drawn as bands, outermost first. */
const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [5, 95],
  [10, 90],
  [25, 75],
];

/**
 * Cones for the instances asked for (all with forecasts when none are). An instance asked for
 * without forecasts is listed in `missing`: `too-little-history` when its
 * `foresight_instance_ready` is 0 (or it has history but no forecast), `unknown` when its
 * `foresight_instance_unknown` is 1 (its data has been missing too long: forecasts older than
 * that are not drawn), else `not-in-data`. The
 * message (which queries are expected) comes only when the data has no cone series at all.
 */
export function prepareCones(series: readonly SeriesInput[], o: ConeOptions): ConeSet | { readonly message: string } {
  const forecasts = series.filter(
    (s) =>
      s.name === FORECAST && s.labels['instance'] && s.labels['metric'] && s.labels['horizon'] && s.labels['percentile']
  );
  const known = series.some((s) => (s.name === METRIC_VALUE || s.name === INSTANCE_READY) && s.labels['instance']);
  if (forecasts.length === 0 && !known) {
    return {
      message: `No ${FORECAST} series with instance, metric, horizon and percentile labels. Query ${FORECAST} (instant) and ${METRIC_VALUE} (range) from the Foresight sidecar.`,
    };
  }
  const unknown = new Set(
    series
      .filter((s) => s.name === INSTANCE_UNKNOWN && s.labels['instance'] && lastValue(s)?.value === 1)
      .map((s) => s.labels['instance']!)
  );
  const wantInstances = o.instances && o.instances.length > 0 ? new Set(o.instances) : undefined;
  const wantMetrics = o.metrics && o.metrics.length > 0 ? new Set(o.metrics) : undefined;
  const wantHorizons = o.horizons && o.horizons.length > 0 ? new Set(o.horizons) : undefined;
  const key = (instance: string, metric: string): string => `${instance}\u0000${metric}`;

  // instance|metric → percentile → horizon seconds → value
  const grid = new Map<
    string,
    { instance: string; metric: string; profile: string; at: number; byP: Map<number, Map<number, number>> }
  >();
  for (const s of forecasts) {
    const instance = s.labels['instance']!;
    const metric = s.labels['metric']!;
    if (
      (wantInstances && !wantInstances.has(instance)) ||
      (wantMetrics && !wantMetrics.has(metric)) ||
      unknown.has(instance)
    ) {
      continue;
    }
    const h = durationSeconds(s.labels['horizon']!);
    const p = Number(s.labels['percentile']);
    const last = lastValue(s);
    if (h === undefined || !Number.isFinite(p) || !last || (wantHorizons && !wantHorizons.has(s.labels['horizon']!))) {
      continue;
    }
    const k = key(instance, metric);
    let g = grid.get(k);
    if (!g) {
      grid.set(k, (g = { instance, metric, profile: s.labels['profile'] ?? '', at: last.time, byP: new Map() }));
    }
    g.at = Math.max(g.at, last.time);
    let byH = g.byP.get(p);
    if (!byH) {
      g.byP.set(p, (byH = new Map()));
    }
    byH.set(h, last.value);
  }
  // the sidecar's p50 time to breach per instance|metric; null: +Inf (no crossing within the forecast),
  // which arrives as a non-number
  const breachSeconds = new Map<string, number | null>();
  for (const s of series) {
    if (s.name === TIME_TO_BREACH && s.labels['percentile'] === '50' && s.labels['instance'] && s.labels['metric']) {
      breachSeconds.set(key(s.labels['instance'], s.labels['metric']), lastValue(s)?.value ?? null);
    }
  }
  const histories = new Map<string, Point[]>();
  const withHistory = new Set<string>();
  const notReady = new Set<string>();
  for (const s of series) {
    const instance = s.labels['instance'];
    if (s.name === INSTANCE_READY && instance && lastValue(s)?.value === 0) {
      notReady.add(instance);
    }
    if (s.name !== METRIC_VALUE || !instance || !s.labels['metric']) {
      continue;
    }
    const pts: Point[] = [];
    s.times.forEach((t, i) => {
      const v = s.values[i];
      if (v !== null && v !== undefined) {
        pts.push({ t, v });
      }
    });
    histories.set(key(instance, s.labels['metric']), pts);
    if (pts.length > 0) {
      withHistory.add(instance);
    }
  }

  const cones: Cone[] = [];
  for (const [k, g] of grid) {
    const history = histories.get(k) ?? [];
    const lastObs = history[history.length - 1];
    const now = lastObs ? Math.max(lastObs.t, g.at) : g.at;
    const curve = (p: number): Point[] | undefined => {
      const byH = g.byP.get(p);
      if (!byH) {
        return undefined;
      }
      const pts = [...byH.entries()].sort((a, b) => a[0] - b[0]).map(([h, v]) => ({ t: now + h * 1000, v }));
      // every curve starts at the present value so the cone opens from "now"
      return lastObs ? [{ t: now, v: lastObs.v }, ...pts] : pts;
    };
    const bands: Band[] = [];
    for (const [lo, hi] of PAIRS) {
      const lower = curve(lo);
      const upper = curve(hi);
      if (!lower || !upper || lower.length !== upper.length) {
        continue;
      }
      bands.push({ lower: lo, upper: hi, polygon: [...upper, ...[...lower].reverse()] });
    }
    const p50 = curve(50) ?? [];
    const thresholds = o.thresholds?.(g.profile, g.metric);
    cones.push({
      instance: g.instance,
      profile: g.profile,
      metric: g.metric,
      now,
      history,
      bands,
      p50,
      ...(thresholds ? { thresholds } : {}),
      ...(breachSeconds.has(k) ? breachAt(breachSeconds.get(k)!, thresholds, now) : breachOf(p50, thresholds, now)),
    });
  }
  const natural = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
  cones.sort((a, b) => natural(a.instance, b.instance) || a.metric.localeCompare(b.metric));
  const drawn = new Set(cones.map((c) => c.instance));
  const missing = [...(wantInstances ?? [])]
    .filter((i) => !drawn.has(i))
    .sort(natural)
    .map((instance) => ({
      instance,
      reason: (unknown.has(instance)
        ? 'unknown'
        : notReady.has(instance) || withHistory.has(instance)
          ? 'too-little-history'
          : 'not-in-data') as NoForecastReason,
    }));
  const stale = series
    .filter(
      (s) =>
        s.name === INSTANCE_STALE &&
        s.labels['instance'] &&
        drawn.has(s.labels['instance']) &&
        lastValue(s)?.value === 1
    )
    .map((s) => ({ instance: s.labels['instance']!, dataAt: lastGoodAt(s), at: lastValue(s)!.time }))
    .sort((a, b) => natural(a.instance, b.instance));
  return stale.length > 0 ? { cones, missing, stale } : { cones, missing };
}

function breachAt(
  seconds: number | null,
  th: Thresholds | undefined,
  now: number
): { breach?: { t: number; seconds: number } } {
  if (!th || seconds === null) {
    return {};
  }
  const s = Math.max(0, seconds);
  return { breach: { t: now + s * 1000, seconds: s } };
}

function breachOf(
  p50: readonly Point[],
  th: Thresholds | undefined,
  now: number
): { breach?: { t: number; seconds: number } } {
  if (!th || p50.length === 0) {
    return {};
  }
  if (p50[0]!.v >= th.critical) {
    return { breach: { t: p50[0]!.t, seconds: Math.max(0, (p50[0]!.t - now) / 1000) } };
  }
  for (let i = 1; i < p50.length; i++) {
    const a = p50[i - 1]!;
    const b = p50[i]!;
    if (b.v >= th.critical && a.v < th.critical) {
      const t = a.t + ((th.critical - a.v) / (b.v - a.v)) * (b.t - a.t);
      return { breach: { t, seconds: (t - now) / 1000 } };
    }
  }
  return {};
}
