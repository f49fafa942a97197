/**
 * `model.json`, the contract between training and serving (README "The model"),
 * validated as strictly as the sidecar's own config. A model the sidecar cannot feed (an
 * unknown `contract_version`, or inputs that differ from what its version's contract feeds) is
 * refused with a message that says what differs.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CONTRACTS, contractVersion } from './contract';

const Dim = z.union([z.literal('batch'), z.number().int().positive()]);
const Tensor = z.strictObject({ name: z.string(), dtype: z.enum(['float32', 'int64']), shape: z.array(Dim) });

export const ModelManifestSchema = z.looseObject({
  name: z.string().min(1),
  /** Which serving contract the model follows (contract.ts); absent in models exported before versions existed: 1. */
  contract_version: z.number().int().positive().optional(),
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

/**
 * Differences between what the manifest declares and what the sidecar can feed, by its
 * contract version; empty when compatible.
 */
export function manifestDifferences(m: ModelManifest): string[] {
  const unknown = unknownVersion(contractVersion(m));
  if (unknown) return [unknown];
  return CONTRACTS.find((x) => x.version === contractVersion(m))!.differences(m);
}

/** Why a contract version cannot be served, or undefined when it can. */
function unknownVersion(v: number): string | undefined {
  if (CONTRACTS.some((x) => x.version === v)) return undefined;
  const served = CONTRACTS.map((x) => (x.version === 1 ? '1 (or absent)' : String(x.version))).join(', ');
  return `contract_version ${v}: this sidecar serves contract versions ${served}; a model of version ${v} needs a sidecar that knows its inputs and outputs`;
}

const VersionOnly = z.looseObject({ contract_version: z.number().int().positive().optional() });

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
  // the version first: a model of another version may lay out every other field differently
  const version = VersionOnly.safeParse(raw);
  const unknown = version.success ? unknownVersion(version.data.contract_version ?? 1) : undefined;
  if (unknown) throw new ModelError(`${jsonPath}: this sidecar cannot feed the model: ${unknown}`);
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
