/**
 * Model inputs exactly as model.json specifies them (features.known_encoding, scaling.missing):
 * raw values in each metric's unit, masks for missing values, known-future time features.
 * Pure: windows in, flat typed arrays out.
 */
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import type { MetricName, ProfileName } from '../profiles/profiles';
import type { ModelInputs } from './session';

const TWO_PI = 2 * Math.PI;
const DAY = 86400;

/**
 * Writes the four known features for each of the window's positions into `out` at `offset`:
 * position p is at origin + (p - encoderLength + 1) × step; [tod_sin, tod_cos, dow_sin, dow_cos].
 */
export function writeKnownFeatures(out: Float32Array, offset: number, origin: number, encoderLength: number, total: number, step: number): void {
  for (let p = 0; p < total; p++) {
    const t = origin + (p - encoderLength + 1) * step;
    const tod = (TWO_PI * (((t % DAY) + DAY) % DAY)) / DAY;
    const dow = (TWO_PI * ((((Math.floor(t / DAY) + 4) % 7) + 7) % 7)) / 7;
    const o = offset + p * 4;
    out[o] = Math.sin(tod);
    out[o + 1] = Math.cos(tod);
    out[o + 2] = Math.sin(dow);
    out[o + 3] = Math.cos(dow);
  }
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

/** Packs windows into one batch of model inputs. */
export function buildModelInputs(windows: readonly SeriesWindow[], shape: InputShape): ModelInputs {
  const b = windows.length;
  const te = shape.encoderLength;
  const t = te + shape.decoderLength;
  const nm = METRIC_NAMES.length;
  const inputs: ModelInputs = {
    batch: b,
    past_target: new Float32Array(b * te),
    past_target_mask: new Float32Array(b * te),
    past_observed: new Float32Array(b * te * nm),
    past_observed_mask: new Float32Array(b * te * nm),
    known: new Float32Array(b * t * 4),
    static_profile: new BigInt64Array(b),
    static_metric: new BigInt64Array(b),
  };
  windows.forEach((w, i) => {
    const target = w.values[w.metric];
    for (let k = 0; k < te; k++) {
      const v = target ? target[k]! : NaN;
      if (Number.isFinite(v)) {
        inputs.past_target[i * te + k] = v;
        inputs.past_target_mask[i * te + k] = 1;
      }
    }
    METRIC_NAMES.forEach((m, j) => {
      const series = w.values[m];
      if (!series) return;
      for (let k = 0; k < te; k++) {
        const v = series[k]!;
        if (Number.isFinite(v)) {
          const o = (i * te + k) * nm + j;
          inputs.past_observed[o] = v;
          inputs.past_observed_mask[o] = 1;
        }
      }
    });
    writeKnownFeatures(inputs.known, i * t * 4, w.origin, te, t, shape.stepSeconds);
    inputs.static_profile[i] = BigInt(PROFILE_NAMES.indexOf(w.profile));
    inputs.static_metric[i] = BigInt(METRIC_NAMES.indexOf(w.metric));
  });
  return inputs;
}
