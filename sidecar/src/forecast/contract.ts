/**
 * Serving contracts: how the sidecar feeds a model and reads its outputs, one module per
 * `contract_version` of model.json. The forecast stage, the source's read lengths, eval and
 * bench go through this interface only, so a version is supported by adding its module to
 * CONTRACTS and retired by deleting it there.
 *
 * - 1 (or absent): one row per series, 24 h of 5-minute history (contract-v1.ts).
 * - 2: one row per server, all of its metrics together, a day plus the encoder of 5-minute
 *   history and a week of hourly context (contract-v2.ts).
 */
import type { MetricName, ProfileName } from '../profiles/profiles';
import type { ModelManifest } from './manifest';
import type { ModelInputs, ModelOutputs } from './session';
import type { SpareTensors } from './inputs';
import { CONTRACT_V1 } from './contract-v1';
import { CONTRACT_V2 } from './contract-v2';

/** One server's history, as the forecast stage hands it to a contract. */
export interface ServerWindow {
  readonly profile: ProfileName;
  /** Unix seconds of the last 5-minute step (the forecast origin). */
  readonly origin: number;
  /** Every metric over the model's history: `historyLength` values each, oldest first, the last at the origin; NaN or a missing metric means not observed. */
  readonly values: Readonly<Partial<Record<MetricName, ArrayLike<number>>>>;
  /** Contracts with a context: every metric's `context.length` samples, `context.stepSeconds` apart, the last at the origin; NaN or missing means not observed. */
  readonly context?: Readonly<Partial<Record<MetricName, ArrayLike<number>>>>;
}

/** One row of a batch: a server and the metrics this row forecasts. */
export interface ModelRow {
  readonly server: ServerWindow;
  readonly metrics: readonly MetricName[];
}

/** A series' forecast read from a batch's outputs: views into them (copy what is kept). */
export interface RowForecast {
  /** [decoder_length × quantiles], metric units, as the model gave them. */
  readonly quantiles: Float32Array;
  /** Past-variable importances of this series (model.json features.past_variables order). */
  readonly encoderWeights: Float32Array;
}

/** A model's contract, bound to its validated manifest. */
export interface ServingContract {
  readonly version: number;
  /** 5-minute steps of history the model reads, the last at the origin (what the source fetches). */
  readonly historyLength: number;
  /** A second, coarser read the model needs besides (v2: a week of hourly samples), or none. */
  readonly context: { readonly length: number; readonly stepSeconds: number } | undefined;
  /** Series a batch row forecasts at most (1: per series; 6: per server). */
  readonly seriesPerRow: number;
  /** The batch rows that forecast a server's `ready` metrics. */
  rows(server: ServerWindow, ready: readonly MetricName[]): ModelRow[];
  /** The batch's inputs; written into `spare` (an earlier batch's tensors, no longer in use) where its buffers have the sizes needed. */
  buildInputs(rows: readonly ModelRow[], spare?: SpareTensors): ModelInputs;
  /** `metric` of batch row `k`. */
  output(out: ModelOutputs, k: number, metric: MetricName): RowForecast;
}

/** What a contract module gives the loader. */
export interface ContractModule {
  readonly version: number;
  /** What differs between the manifest and what this contract can feed; empty when compatible. */
  differences(m: ModelManifest): string[];
  bind(m: ModelManifest): ServingContract;
}

/** The versions this sidecar serves. */
export const CONTRACTS: readonly ContractModule[] = [CONTRACT_V1, CONTRACT_V2];

/** A manifest's version: `contract_version`, absent in models exported before it existed (1). */
export function contractVersion(m: ModelManifest): number {
  return m.contract_version ?? 1;
}

/** The contract of a manifest that loadModelFiles accepted. */
export function servingContract(m: ModelManifest): ServingContract {
  const v = contractVersion(m);
  const c = CONTRACTS.find((x) => x.version === v);
  if (!c) throw new Error(`contract_version ${v} is not served by this sidecar`);
  return c.bind(m);
}
