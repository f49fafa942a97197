/**
 * Contract version 2: one batch row per server, every metric forecast together. Inputs (names
 * and meaning from model.json, written by models/train/foresight_tft2/export.py):
 * - `history` / `history_mask` [batch, history_length, metrics]: 5-minute values of every
 *   metric, the last row at the origin (a day before the first encoder step plus the encoder,
 *   so the graph finds each step's one-day lag in it); mask 0 where missing.
 * - `week` / `week_mask` [batch, week_length, metrics]: every metric sampled every
 *   week_step_seconds (1 h), the last at the origin — the same values the 5-minute read gives at
 *   those instants (training samples its 5-minute series on those instants; no averaging);
 *   mask 0 where missing or older than the server's data.
 * - `known` [batch, encoder + decoder, 4], `static_profile` [batch].
 * Scaling is inside the graph: raw values in, quantiles in each metric's unit out.
 * Outputs: `quantiles` [batch, metrics, decoder, quantiles]; `encoder_weights` [batch, metrics,
 * past variables] (target, lag_day, lag_week, time); static/decoder weights and attention are
 * read by nothing in the sidecar.
 */
import { z } from 'zod';
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import type { ContractModule, ModelRow, RowForecast, ServingContract } from './contract';
import { tensorDifferences, vocabularyDifferences } from './contract-checks';
import { KNOWN_FEATURES, reusable, writeKnownFeatures } from './inputs';
import type { SpareTensors } from './inputs';
import type { ModelManifest } from './manifest';
import type { ModelInputs, ModelOutputs } from './session';

const INPUTS = ['history', 'history_mask', 'week', 'week_mask', 'known', 'static_profile'] as const;
const OUTPUTS = ['quantiles', 'static_weights', 'encoder_weights', 'decoder_weights', 'attention'] as const;

/** The fields version 2 adds to model.json. */
const V2Fields = z.looseObject({
  history_length: z.number().int().positive(),
  week_length: z.number().int().positive(),
  week_step_seconds: z.number().int().positive(),
  metrics: z.array(z.string()),
});
type V2Fields = z.infer<typeof V2Fields>;

function expectedShapes(m: ModelManifest, v: V2Fields): Record<string, Array<string | number>> {
  const nm = METRIC_NAMES.length;
  return {
    history: ['batch', v.history_length, nm],
    history_mask: ['batch', v.history_length, nm],
    week: ['batch', v.week_length, nm],
    week_mask: ['batch', v.week_length, nm],
    known: ['batch', m.encoder_length + m.decoder_length, KNOWN_FEATURES.length],
    static_profile: ['batch'],
    quantiles: ['batch', nm, m.decoder_length, m.quantiles.length],
    encoder_weights: ['batch', nm, m.features.past_variables.length],
  };
}

/** Writes `rows` × `length` × metrics values and masks from each row's per-metric arrays (oldest first). */
function writeSeries(
  values: Float32Array,
  mask: Float32Array,
  rows: readonly ModelRow[],
  length: number,
  pick: (r: ModelRow) => Readonly<Record<string, ArrayLike<number> | undefined>> | undefined,
): void {
  const nm = METRIC_NAMES.length;
  rows.forEach((r, i) => {
    const series = pick(r);
    if (!series) return;
    METRIC_NAMES.forEach((m, j) => {
      const v = series[m];
      if (!v) return;
      for (let k = 0; k < length; k++) {
        const x = v[k];
        if (x !== undefined && Number.isFinite(x)) {
          const o = (i * length + k) * nm + j;
          values[o] = x;
          mask[o] = 1;
        }
      }
    });
  });
}

export const CONTRACT_V2: ContractModule = {
  version: 2,
  differences(m: ModelManifest): string[] {
    const parsed = V2Fields.safeParse(m);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      return [`${first.path.join('.')}: ${first.message} (contract version 2 needs history_length, week_length, week_step_seconds and metrics)`];
    }
    const v = parsed.data;
    const diffs = [
      ...tensorDifferences(
        m,
        INPUTS,
        OUTPUTS,
        expectedShapes(m, v),
        `history ${v.history_length}, week ${v.week_length}, encoder ${m.encoder_length}, decoder ${m.decoder_length}`,
      ),
      ...vocabularyDifferences(m),
    ];
    if (v.metrics.join(',') !== METRIC_NAMES.join(','))
      diffs.push(`metrics: expected [${METRIC_NAMES.join(', ')}] (the order of every output's metric axis), model has [${v.metrics.join(', ')}]`);
    if (v.week_step_seconds % m.step_seconds !== 0) diffs.push(`week_step_seconds: ${v.week_step_seconds} is not a multiple of step_seconds ${m.step_seconds}`);
    if (v.history_length < m.encoder_length) diffs.push(`history_length: ${v.history_length} is shorter than the encoder (${m.encoder_length})`);
    return diffs;
  },
  bind(m: ModelManifest): ServingContract {
    const v = V2Fields.parse(m);
    const te = m.encoder_length;
    const td = m.decoder_length;
    const t = te + td;
    const nq = m.quantiles.length;
    const nv = m.features.past_variables.length;
    const nm = METRIC_NAMES.length;
    const nk = KNOWN_FEATURES.length;
    const ln = v.history_length;
    const wn = v.week_length;
    return {
      version: 2,
      historyLength: ln,
      context: { length: wn, stepSeconds: v.week_step_seconds },
      seriesPerRow: nm,
      rows: (server, ready) => (ready.length > 0 ? [{ server, metrics: ready }] : []),
      buildInputs(rows: readonly ModelRow[], spare?: SpareTensors): ModelInputs {
        const b = rows.length;
        const history = reusable(spare, 'history', b * ln * nm, 'float32');
        const historyMask = reusable(spare, 'history_mask', b * ln * nm, 'float32');
        const week = reusable(spare, 'week', b * wn * nm, 'float32');
        const weekMask = reusable(spare, 'week_mask', b * wn * nm, 'float32');
        const known = reusable(spare, 'known', b * t * nk, 'float32');
        const profile = reusable(spare, 'static_profile', b, 'int64');
        writeSeries(history, historyMask, rows, ln, (r) => r.server.values);
        writeSeries(week, weekMask, rows, wn, (r) => r.server.context);
        rows.forEach((r, i) => {
          writeKnownFeatures(known, i * t * nk, r.server.origin, te, t, m.step_seconds);
          profile[i] = BigInt(PROFILE_NAMES.indexOf(r.server.profile));
        });
        return { batch: b, tensors: { history, history_mask: historyMask, week, week_mask: weekMask, known, static_profile: profile } };
      },
      output(out: ModelOutputs, k: number, metric): RowForecast {
        const j = METRIC_NAMES.indexOf(metric);
        const q = (k * nm + j) * td * nq;
        const w = (k * nm + j) * nv;
        return { quantiles: out['quantiles'].subarray(q, q + td * nq), encoderWeights: out['encoder_weights']!.subarray(w, w + nv) };
      },
    };
  },
};
