/**
 * The forecast stage: one model call per (instance, metric) with enough history, in batches;
 * quantiles made monotone and bounded to each metric's physical range; instances without
 * enough history marked not ready instead of invented.
 */
import type { MetricName, ProfileName } from '../profiles/profiles';
import type { ProfileOf } from '../profiles/match';
import { METRIC_NAMES, PERCENT_METRICS } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import type { ModelManifest } from './manifest';
import type { ModelInputs, ModelOutputs } from './session';
import type { SeriesWindow } from './inputs';
import { buildModelInputs } from './inputs';
import { continueSteadyClimb } from './climb';

/** Something that runs the model on a batch (the worker runner; tests hand in an object literal). */
export interface BatchRunner {
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  /** Batches it can run at once (inference workers); 1 when absent. */
  readonly concurrency?: number;
}

export interface SeriesForecast {
  /** [decoder_length × quantiles], metric units, monotone in quantile. */
  readonly quantiles: Float32Array;
  /** Past-variable importances from the model's variable selection (model.json features.past_variables order). */
  readonly encoderWeights: Float32Array;
}

export interface InstanceForecast {
  readonly instance: string;
  readonly profile: ProfileName;
  /** Enough history for every forecast metric? */
  readonly ready: boolean;
  /** The latest value of each metric (what the model saw last); NaN when missing. */
  readonly current: Readonly<Record<MetricName, number>>;
  readonly forecasts: Readonly<Partial<Record<MetricName, SeriesForecast>>>;
}

export interface ForecastResult {
  readonly origin: number;
  readonly instances: readonly InstanceForecast[];
  /** Counted failures by reason (e.g. nan_output, inference). */
  readonly errors: Readonly<Record<string, number>>;
}

export interface ForecastOptions {
  readonly manifest: ModelManifest;
  readonly runner: BatchRunner;
  readonly profileOf: ProfileOf;
  /** Observed target points needed in the encoder window to forecast a series. */
  readonly minHistoryPoints: number;
  readonly batchSize: number;
  /** The critical threshold of a profile's metric (climb continuation, see climb.ts); none: never continued. */
  readonly criticalOf?: (profile: ProfileName, metric: MetricName) => number;
}

function latest(values: Float64Array | undefined): number {
  if (!values) return NaN;
  for (let i = values.length - 1; i >= Math.max(0, values.length - 3); i--) if (Number.isFinite(values[i]!)) return values[i]!;
  return NaN;
}

/** Makes each step's quantiles non-decreasing and keeps them in the metric's range. False if any value is not finite. */
export function sanitiseQuantiles(q: Float32Array, steps: number, nq: number, metric: MetricName): boolean {
  const hi = PERCENT_METRICS.has(metric) ? 100 : Infinity;
  for (let h = 0; h < steps; h++) {
    let prev = -Infinity;
    for (let k = 0; k < nq; k++) {
      const i = h * nq + k;
      const v = q[i]!;
      if (!Number.isFinite(v)) return false;
      const bounded = Math.min(hi, Math.max(0, v, prev));
      q[i] = bounded;
      prev = bounded;
    }
  }
  return true;
}

export async function forecastWindow(window: HistoryWindow, o: ForecastOptions): Promise<ForecastResult> {
  const te = o.manifest.encoder_length;
  const td = o.manifest.decoder_length;
  const nq = o.manifest.quantiles.length;
  const nv = o.manifest.features.past_variables.length;
  const errors: Record<string, number> = {};
  const count = (reason: string): void => void (errors[reason] = (errors[reason] ?? 0) + 1);
  const jobs: Array<{ instance: string; metric: MetricName; window: SeriesWindow }> = [];
  const instances: Array<{ instance: string; profile: ProfileName; current: Record<MetricName, number>; ready: boolean; forecasts: Partial<Record<MetricName, SeriesForecast>> }> = [];
  let n = 0;
  for (const [instance, metrics] of window.instances) {
    // large fleets: give the event loop back now and then (counting history is ~10 ms per 1,000 instances)
    if (++n % 500 === 0) await new Promise((r) => setImmediate(r));
    const profile = o.profileOf(instance, window.profiles?.get(instance));
    const current = Object.fromEntries(METRIC_NAMES.map((m) => [m, latest(metrics[m])])) as Record<MetricName, number>;
    const values: Partial<Record<MetricName, Float64Array>> = {};
    for (const m of METRIC_NAMES) {
      const v = metrics[m];
      if (v) values[m] = v.length === te ? v : v.subarray(v.length - te);
    }
    let ready = true;
    for (const m of METRIC_NAMES) {
      const v = values[m];
      if (!v) continue;
      let seen = 0;
      for (let k = 0; k < v.length; k++) if (Number.isFinite(v[k]!)) seen++;
      if (seen < o.minHistoryPoints) {
        ready = false;
        continue;
      }
      jobs.push({ instance, metric: m, window: { profile, metric: m, origin: window.end, values } });
    }
    instances.push({ instance, profile, current, ready: ready && Object.keys(values).length > 0, forecasts: {} });
  }
  const byInstance = new Map(instances.map((i) => [i.instance, i]));
  const runBatch = async (start: number): Promise<void> => {
    const chunk = jobs.slice(start, start + o.batchSize);
    let out: ModelOutputs;
    try {
      out = await o.runner.run(buildModelInputs(chunk.map((j) => j.window), { encoderLength: te, decoderLength: td, stepSeconds: window.step }));
    } catch {
      // one failed batch never stops the cycle: its series keep their last forecast
      chunk.forEach(() => count('inference'));
      return;
    }
    chunk.forEach((job, k) => {
      const q = out.quantiles.slice(k * td * nq, (k + 1) * td * nq);
      if (!sanitiseQuantiles(q, td, nq, job.metric)) {
        count('nan_output');
        return;
      }
      const recent = job.window.values[job.metric];
      if (recent && o.criticalOf) continueSteadyClimb(q, recent, job.metric, window.step, o.manifest.quantiles, o.criticalOf(job.window.profile, job.metric));
      byInstance.get(job.instance)!.forecasts[job.metric] = { quantiles: q, encoderWeights: out.encoder_weights.slice(k * nv, (k + 1) * nv) };
    });
  };
  // every worker busy plus one batch queued behind them, so none waits for the main thread to
  // build its next input
  const lanes = (o.runner.concurrency ?? 1) + 1;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const start = next;
      next += o.batchSize;
      await runBatch(start);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { origin: window.end, instances, errors };
}
