/**
 * The forecast stage: the model run in batches on every instance with enough history — one row
 * per series (contract 1) or per server (contract 2; see contract.ts); quantiles made monotone
 * and bounded to each metric's physical range; instances without enough history marked not
 * ready instead of invented.
 */
import type { MetricName, ProfileName } from '../profiles/profiles';
import type { ProfileOf } from '../profiles/match';
import { METRIC_NAMES, PERCENT_METRICS } from '../profiles/profiles';
import type { HistoryWindow, SeriesValues } from '../source/source';
import type { ModelManifest } from './manifest';
import type { ModelInputs, ModelOutputs } from './session';
import type { ModelRow, ServerWindow } from './contract';
import { servingContract } from './contract';
import { continueSteadyClimb } from './climb';
import { loopPauser } from '../pause';

/** Something that runs the model on a batch (the worker runner; tests hand in an object literal). */
export interface BatchRunner {
  /**
   * `transfer`: the inputs are the runner's to keep (the forecast stage builds each batch once and
   * never reads it again); `recycle`: where the runner may hand the input tensors back once the
   * run is done with them, for a later batch to be written into.
   */
  run(inputs: ModelInputs, options?: { readonly transfer?: boolean; readonly recycle?: (tensors: ModelInputs['tensors']) => void }): Promise<ModelOutputs>;
  /** Batches it can run at once (inference workers); 1 when absent. */
  readonly concurrency?: number;
}

export interface SeriesForecast {
  /**
   * [decoder_length × quantiles], metric units, monotone in quantile. A view into one buffer per
   * server (all its metrics' forecasts): one allocation per server instead of one per series.
   */
  readonly quantiles: Float32Array;
}

/** How much history the model saw for an instance: with less than it can read, the rest is masked as missing. */
export interface InstanceHistory {
  /** Hours from the oldest observed value the model read (any metric, 5-minute or context read) to the origin. */
  readonly hours: number;
  /** Hours back the model reads at most (contract 1: its 24 h encoder; contract 2: the week context). */
  readonly modelHours: number;
}

export interface InstanceForecast {
  readonly instance: string;
  readonly profile: ProfileName;
  /** Enough history for every forecast metric? */
  readonly ready: boolean;
  /** Set by the forecast stage; absent where an instance was scored without it (past columns). */
  readonly history?: InstanceHistory;
  /** The latest value of each metric (what the model saw last); NaN when missing. */
  readonly current: Readonly<Record<MetricName, number>>;
  readonly forecasts: Readonly<Partial<Record<MetricName, SeriesForecast>>>;
}

/** Why a series' forecast could not be made: its batch failed (inference), or the model gave non-finite values (nan_output). */
export const FORECAST_DROP_REASONS = ['inference', 'nan_output'] as const;
export type ForecastDropReason = (typeof FORECAST_DROP_REASONS)[number];

export interface ForecastResult {
  readonly origin: number;
  readonly instances: readonly InstanceForecast[];
  /** Series whose forecast could not be made, by reason. */
  readonly errors: Readonly<Partial<Record<ForecastDropReason, number>>>;
}

export interface ForecastOptions {
  readonly manifest: ModelManifest;
  readonly runner: BatchRunner;
  readonly profileOf: ProfileOf;
  /** Observed target points needed in the model's 5-minute history to forecast a series. */
  readonly minHistoryPoints: number;
  /** Rows per model call: series for contract 1, servers (all their metrics) for contract 2. */
  readonly batchSize: number;
  /** The critical threshold of a profile's metric (climb continuation, see climb.ts); none: never continued. */
  readonly criticalOf?: (profile: ProfileName, metric: MetricName) => number;
}

function latest(values: SeriesValues | undefined): number {
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

/** The last `n` values of `v`, NaN-padded at the front when it holds fewer. */
function tail(v: SeriesValues, n: number): SeriesValues {
  if (v.length >= n) return v.length === n ? v : v.subarray(v.length - n);
  const out = new Float32Array(n).fill(NaN);
  out.set(v, n - v.length);
  return out;
}

/**
 * Forecasts every instance of `window` (5-minute history ending at the origin). `context`: the
 * contract's second read (contract 2: a week of hourly samples ending at the same origin);
 * absent or missing instances forecast with that context masked as missing.
 */
export async function forecastWindow(window: HistoryWindow, o: ForecastOptions, context?: HistoryWindow): Promise<ForecastResult> {
  const contract = servingContract(o.manifest);
  const ln = contract.historyLength;
  const td = o.manifest.decoder_length;
  const nq = o.manifest.quantiles.length;
  const modelHours = Math.max((ln - 1) * window.step, contract.context ? (contract.context.length - 1) * contract.context.stepSeconds : 0) / 3600;
  const errors: Partial<Record<ForecastDropReason, number>> = {};
  const count = (reason: ForecastDropReason, k = 1): void => void (errors[reason] = (errors[reason] ?? 0) + k);
  // per row, its server's result and where the row's first metric's quantiles go in the server's buffer
  const rows: Array<{ instance: string; row: ModelRow; quantiles: Float32Array; offset: number }> = [];
  const instances: Array<{
    instance: string;
    profile: ProfileName;
    current: Record<MetricName, number>;
    ready: boolean;
    history: InstanceHistory;
    forecasts: Partial<Record<MetricName, SeriesForecast>>;
  }> = [];
  // large fleets: the event loop is given back every few ms (preparing a server's rows takes ~0.1 ms)
  const pause = loopPauser();
  for (const [instance, metrics] of window.instances) {
    await pause();
    const profile = o.profileOf(instance, window.profiles?.get(instance));
    const current = Object.fromEntries(METRIC_NAMES.map((m) => [m, latest(metrics[m])])) as Record<MetricName, number>;
    const values: Partial<Record<MetricName, SeriesValues>> = {};
    // seconds from the oldest observed value read (any metric, either read) to the origin
    let reach = -Infinity;
    for (const m of METRIC_NAMES) {
      const v = metrics[m];
      if (!v) continue;
      values[m] = tail(v, ln);
      for (let k = 0; k < ln; k++) {
        if (Number.isFinite(values[m][k]!)) {
          reach = Math.max(reach, (ln - 1 - k) * window.step);
          break;
        }
      }
    }
    let contextValues: Partial<Record<MetricName, SeriesValues>> | undefined;
    if (contract.context && context) {
      const c = context.instances.get(instance);
      if (c) {
        contextValues = {};
        for (const m of METRIC_NAMES) {
          const v = c[m];
          if (!v) continue;
          contextValues[m] = tail(v, contract.context.length);
          for (let k = 0; k < contract.context.length; k++) {
            if (Number.isFinite(contextValues[m][k]!)) {
              reach = Math.max(reach, (contract.context.length - 1 - k) * contract.context.stepSeconds);
              break;
            }
          }
        }
      }
    }
    let ready = true;
    const forecastable: MetricName[] = [];
    for (const m of METRIC_NAMES) {
      const v = values[m];
      if (!v) continue;
      let seen = 0;
      for (let k = 0; k < v.length; k++) if (Number.isFinite(v[k]!)) seen++;
      if (seen < o.minHistoryPoints) ready = false;
      else forecastable.push(m);
    }
    const server: ServerWindow = { profile, origin: window.end, values, ...(contextValues ? { context: contextValues } : {}) };
    // one buffer for all of the server's forecasts, each metric's a view into it
    const quantiles = new Float32Array(forecastable.length * td * nq);
    let offset = 0;
    for (const row of contract.rows(server, forecastable)) {
      rows.push({ instance, row, quantiles, offset });
      offset += row.metrics.length * td * nq;
    }
    const history = { hours: Number.isFinite(reach) ? Math.round((reach / 3600) * 10) / 10 : 0, modelHours: Math.round(modelHours * 10) / 10 };
    instances.push({ instance, profile, current, ready: ready && Object.keys(values).length > 0, history, forecasts: {} });
  }
  const byInstance = new Map(instances.map((i) => [i.instance, i]));
  // input tensors of finished batches, written into by the next ones (a batch's inputs are ~0.7 MB)
  const spare: Array<ModelInputs['tensors']> = [];
  const recycle = (tensors: ModelInputs['tensors']): void => void spare.push(tensors);
  const runBatch = async (start: number): Promise<void> => {
    const chunk = rows.slice(start, start + o.batchSize);
    let out: ModelOutputs;
    try {
      out = await o.runner.run(
        contract.buildInputs(
          chunk.map((j) => j.row),
          spare.pop(),
        ),
        { transfer: true, recycle },
      );
    } catch {
      // one failed batch never stops the cycle: its series keep their last forecast
      chunk.forEach((j) => count('inference', j.row.metrics.length));
      return;
    }
    chunk.forEach((job, k) => {
      job.row.metrics.forEach((metric, j) => {
        const at = job.offset + j * td * nq;
        const q = job.quantiles.subarray(at, at + td * nq);
        q.set(contract.output(out, k, metric).quantiles);
        if (!sanitiseQuantiles(q, td, nq, metric)) {
          count('nan_output');
          return;
        }
        const recent = job.row.server.values[metric];
        if (recent && o.criticalOf) continueSteadyClimb(q, recent, metric, window.step, o.manifest.quantiles, o.criticalOf(job.row.server.profile, metric));
        byInstance.get(job.instance)!.forecasts[metric] = { quantiles: q };
      });
    });
  };
  // every worker busy plus one batch queued behind them, so none waits for the main thread to
  // build its next input
  const lanes = (o.runner.concurrency ?? 1) + 1;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < rows.length) {
      const start = next;
      next += o.batchSize;
      await runBatch(start);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { origin: window.end, instances, errors };
}
