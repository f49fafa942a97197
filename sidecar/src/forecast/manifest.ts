/**
 * `model.json`, the contract between training and serving (README "The model"),
 * validated as strictly as the sidecar's own config. A model the sidecar cannot feed is
 * refused with a message that says what differs.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';

const Dim = z.union([z.literal('batch'), z.number().int().positive()]);
const Tensor = z.strictObject({ name: z.string(), dtype: z.enum(['float32', 'int64']), shape: z.array(Dim) });

export const ModelManifestSchema = z.looseObject({
  name: z.string().min(1),
  format: z.literal('onnx'),
  version: z.string().min(1),
  architecture: z.string(),
  opset: z.number().int().min(13),
  checksum: z.strictObject({ algorithm: z.literal('sha256'), 'model.onnx': z.string().regex(/^[0-9a-f]{64}$/) }),
  encoder_length: z.number().int().positive(),
  decoder_length: z.number().int().positive(),
  step_seconds: z.number().int().positive(),
  quantiles: z.array(z.number().gt(0).lt(1)).min(1),
  inputs: z.array(Tensor),
  outputs: z.array(Tensor),
  features: z.looseObject({
    static: z.array(z.looseObject({ name: z.string(), vocabulary: z.array(z.string()).optional() })),
    known: z.array(z.looseObject({ name: z.string(), index: z.number().int() })),
    past_variables: z.array(z.string()),
    future_variables: z.array(z.string()),
  }),
  parity: z.looseObject({ atol: z.number().nonnegative(), rtol: z.number().nonnegative() }),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** A model that cannot be served; `message` says which file and what differs. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** What this sidecar build can feed: input names in order, their shapes, the vocabularies and known features. */
export const SERVING_CONTRACT = {
  inputs: ['past_target', 'past_target_mask', 'past_observed', 'past_observed_mask', 'known', 'static_profile', 'static_metric'],
  outputs: ['quantiles', 'static_weights', 'encoder_weights', 'decoder_weights', 'attention'],
  known: ['tod_sin', 'tod_cos', 'dow_sin', 'dow_cos'],
  profiles: [...PROFILE_NAMES] as string[],
  metrics: [...METRIC_NAMES] as string[],
} as const;

function expectedShapes(m: ModelManifest): Record<string, Array<string | number>> {
  const te = m.encoder_length;
  const t = te + m.decoder_length;
  const nm = SERVING_CONTRACT.metrics.length;
  return {
    past_target: ['batch', te],
    past_target_mask: ['batch', te],
    past_observed: ['batch', te, nm],
    past_observed_mask: ['batch', te, nm],
    known: ['batch', t, SERVING_CONTRACT.known.length],
    static_profile: ['batch'],
    static_metric: ['batch'],
    quantiles: ['batch', m.decoder_length, m.quantiles.length],
  };
}

/** Differences between what the manifest declares and what the sidecar can feed; empty when compatible. */
export function manifestDifferences(m: ModelManifest): string[] {
  const diffs: string[] = [];
  const names = m.inputs.map((i) => i.name);
  if (names.join(',') !== SERVING_CONTRACT.inputs.join(',')) {
    diffs.push(`inputs: expected [${SERVING_CONTRACT.inputs.join(', ')}] in this order, model has [${names.join(', ')}]`);
  }
  const outs = m.outputs.map((o) => o.name);
  for (const needed of SERVING_CONTRACT.outputs) {
    if (!outs.includes(needed)) diffs.push(`outputs: missing "${needed}"`);
  }
  const shapes = expectedShapes(m);
  for (const t of [...m.inputs, ...m.outputs]) {
    const want = shapes[t.name];
    if (want && JSON.stringify(want) !== JSON.stringify(t.shape)) {
      diffs.push(`${t.name}: shape ${JSON.stringify(t.shape)} does not match [${want.join(', ')}] (encoder ${m.encoder_length}, decoder ${m.decoder_length})`);
    }
  }
  const vocab = (name: string): string[] | undefined => m.features.static.find((s) => s.name === name)?.vocabulary;
  for (const [name, want] of [['profile', SERVING_CONTRACT.profiles], ['metric', SERVING_CONTRACT.metrics]] as const) {
    const got = vocab(name);
    if (!got || got.join(',') !== want.join(',')) {
      diffs.push(`features.static.${name}.vocabulary: expected [${want.join(', ')}], model has [${(got ?? []).join(', ')}]`);
    }
  }
  const known = [...m.features.known].sort((a, b) => a.index - b.index).map((k) => k.name);
  if (known.join(',') !== SERVING_CONTRACT.known.join(',')) {
    diffs.push(`features.known: expected [${SERVING_CONTRACT.known.join(', ')}], model has [${known.join(', ')}]`);
  }
  if (!m.quantiles.includes(0.5)) diffs.push('quantiles: must include 0.5 (the median)');
  for (let i = 1; i < m.quantiles.length; i++) {
    if (!(m.quantiles[i]! > m.quantiles[i - 1]!)) diffs.push('quantiles: must be strictly increasing');
  }
  return diffs;
}

export interface LoadedModel {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly onnx: Uint8Array;
}

/**
 * Reads and checks `<dir>/model.json` and `<dir>/model.onnx`: JSON syntax, schema, checksum,
 * and compatibility with this sidecar. Throws ModelError naming the file and what is wrong.
 */
export async function loadModelFiles(dir: string): Promise<LoadedModel> {
  const jsonPath = path.join(dir, 'model.json');
  const onnxPath = path.join(dir, 'model.onnx');
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    throw new ModelError(`${jsonPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${jsonPath}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = ModelManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new ModelError(`${jsonPath}: ${first.path.join('.') || '(root)'}: ${first.message}`);
  }
  const manifest = parsed.data;
  const diffs = manifestDifferences(manifest);
  if (diffs.length > 0) throw new ModelError(`${jsonPath}: this sidecar cannot feed the model: ${diffs.join('; ')}`);
  let onnx: Buffer;
  try {
    onnx = await readFile(onnxPath);
  } catch (e) {
    throw new ModelError(`${onnxPath}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const sum = createHash('sha256').update(onnx).digest('hex');
  if (sum !== manifest.checksum['model.onnx']) {
    throw new ModelError(`${onnxPath}: sha256 ${sum} does not match model.json's checksum ${manifest.checksum['model.onnx']} (corrupt or mismatched file)`);
  }
  return { dir, manifest, onnx };
}
