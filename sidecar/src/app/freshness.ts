/**
 * Unknown is a state, not "healthy". Each cycle, every server's data is judged complete or not
 * before its new forecasts and risk are published:
 *
 * - **fresh**: every metric it had at its last good cycle is there, recent (newest data younger
 *   than `staleness`) and forecast where it was forecast before → publish this cycle's result;
 * - **stale**: data missing (absent from the answers, or the read failed), partial (a metric
 *   query failed, a metric absent, or its forecast failed), stale or invalid (checked values
 *   dropped leave a gap) → publish the last good forecasts and risk unchanged, marked stale,
 *   for at most `keepStale` after that last good data;
 * - **unknown**: longer than that, or never seen complete → no forecast, score or metric value
 *   is published; the severity level stays at the last level seen (never lowered) so alerts do
 *   not resolve on missing data, until `forgetAfter` after the last good data, when the server
 *   is dropped.
 *
 * Times are the data clock (cycle origins, unix seconds). The class holds the last good state
 * per server across cycles (and across reloads: the app keeps one instance).
 */
import type { MetricName } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import type { InstanceForecast } from '../forecast/forecaster';
import type { InstanceRisk } from '../risk/assess';

export type DataState = 'fresh' | 'stale' | 'unknown';

/** Why a server's data was not complete this cycle. */
export type StaleReason = 'missing' | 'partial' | 'stale' | 'forecast';

export interface FreshnessOptions {
  readonly step: number;
  /** Seconds: a metric whose newest data may be this old is stale (≥ 2 steps). */
  readonly staleness: number;
  /** Seconds after the last good data during which the last good result is published, marked stale. */
  readonly keepStale: number;
  /** Seconds after the last good data (or first sight) when an unknown server is dropped. */
  readonly forgetAfter: number;
}

/** What one cycle publishes for one server. */
export interface PublishedInstance {
  readonly state: DataState;
  /** Fresh: this cycle's forecast; stale: the last good one; unknown: no forecasts or values (profile only). */
  readonly forecast: InstanceForecast;
  /** Fresh: this cycle's risk; stale: the last good risk; unknown: none. */
  readonly risk: InstanceRisk | undefined;
  /** The level to publish: the risk's, or while unknown the last level seen (none if never scored). */
  readonly level: number | undefined;
  /** Origin (data time) of the forecast published: this cycle's, or the last good cycle's. */
  readonly origin: number | undefined;
  /** Origin of the last good data; undefined when never complete. */
  readonly goodAt: number | undefined;
  /** Why it is not fresh. */
  readonly reason: StaleReason | undefined;
}

interface LastGood {
  readonly forecast: InstanceForecast;
  readonly risk: InstanceRisk;
  /** Metrics that were present and recent then: what the server is expected to keep having. */
  readonly metrics: ReadonlySet<MetricName>;
  /** Metrics that had a forecast then. */
  readonly forecasts: ReadonlySet<MetricName>;
  readonly at: number;
}

/** This cycle's fresh result for one server (what the forecast and risk stages produced). */
export interface CycleResult {
  readonly forecast: InstanceForecast;
  readonly risk: InstanceRisk | undefined;
}

/** Metrics of one server's window: recent enough, present but stale, or absent. */
export function metricRecency(
  values: Partial<Record<MetricName, ArrayLike<number>>>,
  step: number,
  staleness: number,
): { recent: Set<MetricName>; stale: Set<MetricName> } {
  const recent = new Set<MetricName>();
  const stale = new Set<MetricName>();
  for (const m of METRIC_NAMES) {
    const v = values[m];
    if (!v) continue;
    let last = -1;
    for (let i = v.length - 1; i >= 0; i--) {
      if (Number.isFinite(v[i]!)) {
        last = i;
        break;
      }
    }
    if (last < 0) continue;
    // the grid point at index `last` stands for the step of samples before it, so the newest
    // sample behind it may be (length - last) steps old
    if ((v.length - last) * step >= staleness) stale.add(m);
    else recent.add(m);
  }
  return { recent, stale };
}

export class Freshness {
  private readonly good = new Map<string, LastGood>();
  /** Servers never complete (or forgotten and back): when first seen, and who they are. */
  private readonly firstSeen = new Map<string, { readonly at: number; readonly blank: InstanceForecast }>();

  constructor(private o: FreshnessOptions) {}

  /** New limits (a reload); the last good state is kept. */
  configure(o: FreshnessOptions): void {
    this.o = o;
  }

  /**
   * What to publish for this cycle at `origin`. `window` and `results` are undefined when the
   * read (or the forecast stage) failed as a whole: then nothing is fresh.
   */
  update(origin: number, window: HistoryWindow | undefined, results: ReadonlyMap<string, CycleResult> | undefined): PublishedInstance[] {
    const failed = new Set<MetricName>((window?.failed ?? []).map((f) => f.metric));
    const out: PublishedInstance[] = [];
    const names = new Set<string>([...this.good.keys(), ...this.firstSeen.keys(), ...(results?.keys() ?? [])]);
    for (const instance of names) {
      const last = this.good.get(instance);
      const now = results?.get(instance);
      const values = window?.instances.get(instance);
      let reason: StaleReason | undefined;
      if (!now || !values) reason = 'missing';
      else {
        const { recent, stale } = metricRecency(values, this.o.step, this.o.staleness);
        if (recent.size === 0) reason = stale.size > 0 ? 'stale' : 'missing';
        else if (last) {
          for (const m of last.metrics) {
            if (recent.has(m)) continue;
            reason ??= stale.has(m) ? 'stale' : 'partial';
          }
          for (const m of failed) if (last.metrics.has(m)) reason ??= 'partial';
          for (const m of last.forecasts) if (recent.has(m) && now.forecast.ready && !now.forecast.forecasts[m]) reason ??= 'forecast';
        } else if (stale.size > 0) reason = 'stale';
        else if ([...failed].some((m) => !recent.has(m))) reason = 'partial';
        if (reason === undefined && !now.risk) reason = 'forecast';
        if (reason === undefined) {
          const forecasts = new Set(METRIC_NAMES.filter((m) => now.forecast.forecasts[m]));
          this.good.set(instance, { forecast: now.forecast, risk: now.risk!, metrics: recent, forecasts, at: origin });
          this.firstSeen.delete(instance);
          out.push({ state: 'fresh', forecast: now.forecast, risk: now.risk, level: now.risk!.level, origin, goodAt: origin, reason: undefined });
          continue;
        }
      }
      if (last && origin - last.at <= this.o.keepStale) {
        out.push({ state: 'stale', forecast: last.forecast, risk: last.risk, level: last.risk.level, origin: last.at, goodAt: last.at, reason });
        continue;
      }
      if (last && origin - last.at <= this.o.forgetAfter) {
        out.push({ state: 'unknown', forecast: blank(last.forecast), risk: undefined, level: last.risk.level, origin: undefined, goodAt: last.at, reason });
        continue;
      }
      // never complete, or forgotten: unknown while it is in the answers, and forget_after after it left
      this.good.delete(instance);
      const seen = this.firstSeen.get(instance);
      if (now) {
        if (!seen) this.firstSeen.set(instance, { at: origin, blank: blank(now.forecast) });
      } else if (!seen || origin - seen.at > this.o.forgetAfter) {
        this.firstSeen.delete(instance);
        continue;
      }
      out.push({
        state: 'unknown',
        forecast: this.firstSeen.get(instance)!.blank,
        risk: undefined,
        level: undefined,
        origin: undefined,
        goodAt: undefined,
        reason,
      });
    }
    return out.sort((a, b) => (a.forecast.instance < b.forecast.instance ? -1 : a.forecast.instance > b.forecast.instance ? 1 : 0));
  }
}

/** A server's identity without any value: what an unknown server publishes. */
function blank(f: InstanceForecast): InstanceForecast {
  return {
    instance: f.instance,
    profile: f.profile,
    ready: false,
    current: Object.fromEntries(METRIC_NAMES.map((m) => [m, NaN])) as Record<MetricName, number>,
    forecasts: {},
  };
}
