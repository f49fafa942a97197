/**
 * Checks every serving contract makes of a manifest, each returning what differs (empty when
 * compatible), in words that name the field, what the sidecar expects and what the model has.
 */
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import { KNOWN_FEATURES } from './inputs';
import type { ModelManifest } from './manifest';

/** Differences in the parts every contract shares: profile and metric vocabularies, known features, quantiles. */
export function vocabularyDifferences(m: ModelManifest): string[] {
  const diffs: string[] = [];
  const vocab = (name: string): string[] | undefined => m.features.static.find((s) => s.name === name)?.vocabulary;
  for (const [name, want] of [
    ['profile', PROFILE_NAMES],
    ['metric', METRIC_NAMES],
  ] as const) {
    const got = vocab(name);
    if (!got || got.join(',') !== want.join(',')) {
      diffs.push(`features.static.${name}.vocabulary: expected [${want.join(', ')}], model has [${(got ?? []).join(', ')}]`);
    }
  }
  const known = [...m.features.known].sort((a, b) => a.index - b.index).map((k) => k.name);
  if (known.join(',') !== KNOWN_FEATURES.join(',')) {
    diffs.push(`features.known: expected [${KNOWN_FEATURES.join(', ')}], model has [${known.join(', ')}]`);
  }
  if (!m.quantiles.includes(0.5)) diffs.push('quantiles: must include 0.5 (the median)');
  for (let i = 1; i < m.quantiles.length; i++) {
    if (!(m.quantiles[i]! > m.quantiles[i - 1]!)) diffs.push('quantiles: must be strictly increasing');
  }
  return diffs;
}

/** Differences between declared and expected tensor names and shapes. */
export function tensorDifferences(
  m: ModelManifest,
  inputs: readonly string[],
  outputs: readonly string[],
  shapes: Record<string, Array<string | number>>,
  lengths: string,
): string[] {
  const diffs: string[] = [];
  const names = m.inputs.map((i) => i.name);
  if (names.join(',') !== inputs.join(',')) diffs.push(`inputs: expected [${inputs.join(', ')}] in this order, model has [${names.join(', ')}]`);
  const outs = m.outputs.map((o) => o.name);
  for (const needed of outputs) if (!outs.includes(needed)) diffs.push(`outputs: missing "${needed}"`);
  for (const t of [...m.inputs, ...m.outputs]) {
    const want = shapes[t.name];
    if (want && JSON.stringify(want) !== JSON.stringify(t.shape))
      diffs.push(`${t.name}: shape ${JSON.stringify(t.shape)} does not match [${want.join(', ')}] (${lengths})`);
  }
  return diffs;
}
