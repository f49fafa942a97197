/**
 * Contract version 1 (model.json without `contract_version`): one batch row per series. Inputs:
 * the target's 24 h of 5-minute history, the server's other metrics over the same steps (all
 * with masks), known-future time features, the profile and the metric. Outputs per row:
 * quantiles [decoder × quantiles] and the variable-selection weights.
 */
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import type { MetricName, ProfileName } from '../profiles/profiles';
import type { ContractModule, ModelRow, RowForecast, ServingContract } from './contract';
import { tensorDifferences, vocabularyDifferences } from './contract-checks';
import { KNOWN_FEATURES, reusable, writeKnownFeatures } from './inputs';
import type { SpareTensors } from './inputs';
import type { ModelManifest } from './manifest';
import type { ModelInputs, ModelOutputs } from './session';

/** What this contract feeds: input names in order, the outputs it reads, the vocabularies. */
export const CONTRACT_V1_TENSORS = {
  inputs: ['past_target', 'past_target_mask', 'past_observed', 'past_observed_mask', 'known', 'static_profile', 'static_metric'],
  outputs: ['quantiles', 'static_weights', 'encoder_weights', 'decoder_weights', 'attention'],
} as const;

function expectedShapes(m: ModelManifest): Record<string, Array<string | number>> {
  const te = m.encoder_length;
  const nm = METRIC_NAMES.length;
  return {
    past_target: ['batch', te],
    past_target_mask: ['batch', te],
    past_observed: ['batch', te, nm],
    past_observed_mask: ['batch', te, nm],
    known: ['batch', te + m.decoder_length, KNOWN_FEATURES.length],
    static_profile: ['batch'],
    static_metric: ['batch'],
    quantiles: ['batch', m.decoder_length, m.quantiles.length],
  };
}

/** One series to forecast: the server's metric windows ending at `origin`. */
export interface SeriesWindow {
  readonly profile: ProfileName;
  readonly metric: MetricName;
  /** Unix seconds of the last encoder step. */
  readonly origin: number;
  /**
   * The server's metrics over the encoder, by metric name, oldest first, `encoderLength`
   * values each; NaN (or a missing metric) means not observed.
   */
  readonly values: Readonly<Partial<Record<MetricName, ArrayLike<number>>>>;
}

export interface InputShape {
  readonly encoderLength: number;
  readonly decoderLength: number;
  readonly stepSeconds: number;
}

/** Packs series windows into one batch of version-1 model inputs (written into `spare`'s buffers where their sizes fit). */
export function buildModelInputs(windows: readonly SeriesWindow[], shape: InputShape, spare?: SpareTensors): ModelInputs {
  const b = windows.length;
  const te = shape.encoderLength;
  const t = te + shape.decoderLength;
  const nm = METRIC_NAMES.length;
  const nk = KNOWN_FEATURES.length;
  const pastTarget = reusable(spare, 'past_target', b * te, 'float32');
  const pastTargetMask = reusable(spare, 'past_target_mask', b * te, 'float32');
  const pastObserved = reusable(spare, 'past_observed', b * te * nm, 'float32');
  const pastObservedMask = reusable(spare, 'past_observed_mask', b * te * nm, 'float32');
  const known = reusable(spare, 'known', b * t * nk, 'float32');
  const staticProfile = reusable(spare, 'static_profile', b, 'int64');
  const staticMetric = reusable(spare, 'static_metric', b, 'int64');
  windows.forEach((w, i) => {
    const target = w.values[w.metric];
    for (let k = 0; k < te; k++) {
      const v = target ? target[k]! : NaN;
      if (Number.isFinite(v)) {
        pastTarget[i * te + k] = v;
        pastTargetMask[i * te + k] = 1;
      }
    }
    METRIC_NAMES.forEach((m, j) => {
      const series = w.values[m];
      if (!series) return;
      for (let k = 0; k < te; k++) {
        const v = series[k]!;
        if (Number.isFinite(v)) {
          const o = (i * te + k) * nm + j;
          pastObserved[o] = v;
          pastObservedMask[o] = 1;
        }
      }
    });
    writeKnownFeatures(known, i * t * nk, w.origin, te, t, shape.stepSeconds);
    staticProfile[i] = BigInt(PROFILE_NAMES.indexOf(w.profile));
    staticMetric[i] = BigInt(METRIC_NAMES.indexOf(w.metric));
  });
  return {
    batch: b,
    tensors: {
      past_target: pastTarget,
      past_target_mask: pastTargetMask,
      past_observed: pastObserved,
      past_observed_mask: pastObservedMask,
      known,
      static_profile: staticProfile,
      static_metric: staticMetric,
    },
  };
}

export const CONTRACT_V1: ContractModule = {
  version: 1,
  differences(m: ModelManifest): string[] {
    return [
      ...tensorDifferences(
        m,
        CONTRACT_V1_TENSORS.inputs,
        CONTRACT_V1_TENSORS.outputs,
        expectedShapes(m),
        `encoder ${m.encoder_length}, decoder ${m.decoder_length}`,
      ),
      ...vocabularyDifferences(m),
    ];
  },
  bind(m: ModelManifest): ServingContract {
    const td = m.decoder_length;
    const nq = m.quantiles.length;
    const nv = m.features.past_variables.length;
    const shape = { encoderLength: m.encoder_length, decoderLength: td, stepSeconds: m.step_seconds };
    return {
      version: 1,
      historyLength: m.encoder_length,
      context: undefined,
      seriesPerRow: 1,
      rows: (server, ready) => ready.map((metric) => ({ server, metrics: [metric] })),
      buildInputs: (rows: readonly ModelRow[], spare?: SpareTensors) =>
        buildModelInputs(
          rows.map((r) => ({ profile: r.server.profile, metric: r.metrics[0]!, origin: r.server.origin, values: r.server.values })),
          shape,
          spare,
        ),
      output(out: ModelOutputs, k: number): RowForecast {
        return { quantiles: out['quantiles'].subarray(k * td * nq, (k + 1) * td * nq), encoderWeights: out['encoder_weights']!.subarray(k * nv, (k + 1) * nv) };
      },
    };
  },
};
