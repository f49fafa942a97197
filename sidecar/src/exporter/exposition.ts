/**
 * Snapshot → Prometheus text exposition (format 0.0.4). Pure: the HTTP handler calls it with
 * the latest snapshot and never computes anything else. Values that are not finite are never
 * published (except +Inf where the contract says so).
 */
import type { MetricDef } from './metrics';
import type { Publication } from './publication';
import { CYCLE_BUCKETS, SERIES } from './metrics';
import type { MetricName } from '../profiles/profiles';
import type { InstanceForecast } from '../forecast/forecaster';
import type { InstanceRisk } from '../risk/assess';
import type { HorizonSpec, PercentileSpec } from '../forecast/horizons';
import { escapeLabelValue } from '@foresight/contract';
import { single } from '../series/precision';

/** Whether a server's published values are this cycle's (see app/freshness.ts). */
export interface InstanceState {
  readonly state: 'fresh' | 'stale' | 'unknown';
  /** The severity level published: the risk's, or the last one seen while unknown. */
  readonly level: number | undefined;
  /** Origin of the forecast published (the last good cycle's while stale). */
  readonly origin: number | undefined;
  /** Origin of the last good data; undefined when never complete. */
  readonly goodAt: number | undefined;
}

/** What the forecast and risk stages produced in the last good cycle. */
export interface ForecastSnapshot {
  readonly origin: number;
  readonly quantileCount: number;
  readonly horizons: readonly HorizonSpec[];
  readonly percentiles: readonly PercentileSpec[];
  readonly instances: readonly InstanceForecast[];
  /** Risk per instance (every instance with a score: fresh or stale, ready or not). */
  readonly risk: ReadonlyMap<string, InstanceRisk>;
  /** Fresh, stale or unknown per instance; all fresh when absent. */
  readonly states?: ReadonlyMap<string, InstanceState>;
  /** Which optional series are published (the config's exporter section). */
  readonly publication: Publication;
}

/** The sidecar's health, read when /metrics is scraped. */
export interface SelfState {
  readonly version: string;
  readonly model: { readonly name: string; readonly version: string; readonly provider: string } | undefined;
  readonly cycleDurations: ReadonlyMap<string, { readonly buckets: readonly number[]; readonly sum: number; readonly count: number }>;
  readonly lastSuccess: number | undefined;
  readonly sourceUp: boolean;
  /** Where history is read from; url empty for the simulator, never with credentials. */
  readonly source: { readonly type: string; readonly url: string };
  /** Failed operations, `stage|reason` → count. */
  readonly errors: ReadonlyMap<string, number>;
  /** Samples dropped by the value checks, by `metric|reason`. */
  readonly dropped?: ReadonlyMap<string, number>;
  /** Series whose forecast could not be made, reason → count. */
  readonly droppedForecasts?: ReadonlyMap<string, number>;
  readonly instances: number;
  readonly calibration: ReadonlyArray<{ readonly metric: MetricName; readonly horizon: string; readonly coverage: number; readonly pinball: number }>;
}

function header(d: MetricDef): string {
  return `# HELP ${d.name} ${d.help}\n# TYPE ${d.name} ${d.type}\n`;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

function fmt(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(single(v));
}

/** The forecast series of a snapshot, a line (or header) at a time. */
function* forecastLines(s: ForecastSnapshot): Generator<string> {
  const pub = s.publication;
  const stateOf = (i: InstanceForecast): string => s.states?.get(i.instance)?.state ?? 'fresh';
  const labelsOf = (i: InstanceForecast): string => `instance="${escapeLabelValue(i.instance)}",profile="${i.profile}"`;
  const { instanceReady, instanceStale, instanceUnknown, metricValue, riskScore, severityLevel, predictedRiskScore, riskDriver, timeToBreach, forecast } =
    SERIES;
  yield header(instanceReady);
  for (const i of s.instances) if (stateOf(i) !== 'unknown') yield `${instanceReady.name}{${labelsOf(i)}} ${i.ready ? 1 : 0}\n`;
  yield header(instanceStale);
  for (const i of s.instances) yield `${instanceStale.name}{${labelsOf(i)}} ${stateOf(i) === 'fresh' ? 0 : 1}\n`;
  yield header(instanceUnknown);
  for (const i of s.instances) yield `${instanceUnknown.name}{${labelsOf(i)}} ${stateOf(i) === 'unknown' ? 1 : 0}\n`;
  yield header(metricValue);
  for (const i of s.instances) {
    const base = labelsOf(i);
    for (const [metric, v] of Object.entries(i.current)) if (Number.isFinite(v)) yield `${metricValue.name}{${base},metric="${metric}"} ${fmt(v)}\n`;
  }
  yield header(riskScore);
  for (const i of s.instances) {
    const r = s.risk.get(i.instance);
    if (r) yield `${riskScore.name}{${labelsOf(i)}} ${round(r.score)}\n`;
  }
  yield header(severityLevel);
  for (const i of s.instances) {
    // an unknown server keeps the last level seen (never lowered), so alerts do not resolve on missing data
    const level = s.risk.get(i.instance)?.level ?? s.states?.get(i.instance)?.level;
    if (level !== undefined) yield `${severityLevel.name}{${labelsOf(i)}} ${level}\n`;
  }
  yield header(predictedRiskScore);
  for (const i of s.instances) {
    const r = s.risk.get(i.instance);
    if (!r || !i.ready) continue;
    const base = labelsOf(i);
    for (const h of s.horizons) {
      const v = r.predicted[h.label];
      if (v !== undefined) yield `${predictedRiskScore.name}{${base},horizon="${h.label}"} ${round(v)}\n`;
    }
  }
  yield header(riskDriver);
  for (const i of s.instances) {
    const r = s.risk.get(i.instance);
    if (!r) continue;
    // the largest first (ties by name, so a cut never flips between scrapes)
    const drivers = Object.entries(r.drivers).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const base = labelsOf(i);
    for (const [driver, v] of drivers.slice(0, pub.drivers)) yield `${riskDriver.name}{${base},driver="${driver}"} ${round(v)}\n`;
  }
  yield header(timeToBreach);
  const breachPercentiles = s.percentiles.filter((p) => pub.breachPercentiles.has(p.label));
  for (const i of s.instances) {
    const r = s.risk.get(i.instance);
    if (!r) continue;
    const base = labelsOf(i);
    for (const [metric, byP] of Object.entries(r.timeToBreach)) {
      for (const p of breachPercentiles) {
        const v = byP?.[p.index];
        if (v !== undefined && !Number.isNaN(v)) yield `${timeToBreach.name}{${base},metric="${metric}",percentile="${p.label}"} ${fmt(Math.round(v))}\n`;
      }
    }
  }
  yield header(forecast);
  const forecastHorizons = s.horizons.filter((h) => pub.forecastHorizons.has(h.label));
  for (const i of s.instances) {
    const base = labelsOf(i);
    for (const [metric, f] of Object.entries(i.forecasts)) {
      if (!f) continue;
      for (const h of forecastHorizons) {
        for (const p of s.percentiles) {
          const v = f.quantiles[h.index * s.quantileCount + p.index]!;
          if (Number.isFinite(v)) yield `${forecast.name}{${base},metric="${metric}",horizon="${h.label}",percentile="${p.label}"} ${fmt(v)}\n`;
        }
      }
    }
  }
}

/**
 * The forecast series of a snapshot as UTF-8 chunks of ~256 KB, rendered in slices that give the
 * event loop back every `sliceMs`, so /metrics and the API keep answering while a large fleet's
 * exposition is built. A consumer that encodes each chunk as it comes (cycle.ts deflates them)
 * never holds the whole text (53 MB at 10,000 instances).
 */
export async function* forecastChunks(s: ForecastSnapshot, sliceMs = 10): AsyncGenerator<Buffer> {
  // encoded to UTF-8 as it goes: a large fleet's exposition is never one string to join
  let pending: string[] = [];
  let size = 0;
  let t0 = performance.now();
  let n = 0;
  for (const line of forecastLines(s)) {
    pending.push(line);
    size += line.length;
    if (size >= 262_144) {
      yield Buffer.from(pending.join(''));
      pending = [];
      size = 0;
    }
    if (++n % 2048 === 0 && performance.now() - t0 > sliceMs) {
      await new Promise((r) => setImmediate(r));
      t0 = performance.now();
    }
  }
  if (pending.length > 0) yield Buffer.from(pending.join(''));
}

/** The forecast series of a snapshot as UTF-8 chunks, all of them (see forecastChunks). */
export async function renderForecastsAsync(s: ForecastSnapshot, sliceMs = 10): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of forecastChunks(s, sliceMs)) chunks.push(c);
  return chunks;
}

/** Renders the self-monitoring series. */
export function renderSelf(st: SelfState): string {
  const { buildInfo, modelInfo, cycleDuration, lastSuccess, sourceUp, sourceInfo, errors, samplesDropped, forecastsDropped, instances, coverage, pinball } =
    SERIES;
  let out = header(buildInfo) + `${buildInfo.name}{version="${escapeLabelValue(st.version)}",nodejs="${process.version}"} 1\n`;
  if (st.model) {
    out +=
      header(modelInfo) +
      `${modelInfo.name}{model="${escapeLabelValue(st.model.name)}",version="${escapeLabelValue(st.model.version)}",execution_provider="${st.model.provider}"} 1\n`;
  }
  out += header(cycleDuration);
  for (const [stage, h] of st.cycleDurations) {
    CYCLE_BUCKETS.forEach((le, i) => (out += `${cycleDuration.name}_bucket{stage="${stage}",le="${le}"} ${h.buckets[i]}\n`));
    out += `${cycleDuration.name}_bucket{stage="${stage}",le="+Inf"} ${h.count}\n`;
    out += `${cycleDuration.name}_sum{stage="${stage}"} ${h.sum}\n`;
    out += `${cycleDuration.name}_count{stage="${stage}"} ${h.count}\n`;
  }
  if (st.lastSuccess !== undefined) out += header(lastSuccess) + `${lastSuccess.name} ${st.lastSuccess}\n`;
  out += header(sourceUp) + `${sourceUp.name} ${st.sourceUp ? 1 : 0}\n`;
  out += header(sourceInfo) + `${sourceInfo.name}{type="${escapeLabelValue(st.source.type)}",url="${escapeLabelValue(st.source.url)}"} 1\n`;
  out += header(errors);
  for (const [key, n] of st.errors) {
    const [stage, reason] = key.split('|') as [string, string];
    out += `${errors.name}{stage="${stage}",reason="${reason}"} ${n}\n`;
  }
  out += header(samplesDropped);
  for (const [key, n] of st.dropped ?? []) {
    const [metric, reason] = key.split('|') as [string, string];
    out += `${samplesDropped.name}{metric="${metric}",reason="${reason}"} ${n}\n`;
  }
  out += header(forecastsDropped);
  for (const [reason, n] of st.droppedForecasts ?? []) out += `${forecastsDropped.name}{reason="${reason}"} ${n}\n`;
  out += header(instances) + `${instances.name} ${st.instances}\n`;
  const cal = st.calibration.filter((c) => Number.isFinite(c.coverage));
  out += header(coverage);
  for (const c of cal) out += `${coverage.name}{metric="${c.metric}",horizon="${c.horizon}"} ${c.coverage}\n`;
  out += header(pinball);
  for (const c of cal) if (Number.isFinite(c.pinball)) out += `${pinball.name}{metric="${c.metric}",horizon="${c.horizon}"} ${c.pinball}\n`;
  return out;
}
