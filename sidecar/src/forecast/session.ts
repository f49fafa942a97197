/**
 * ONNX Runtime sessions for a validated model: execution-provider choice and batched runs.
 * Inference runs here, on the calling thread; the serving loop calls it from a worker thread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from './manifest';
import { ModelError } from './manifest';

export type Device = 'auto' | 'cuda' | 'cpu';
export type ExecutionProvider = 'cuda' | 'cpu';

/**
 * Flat model inputs for `batch` rows (series or servers, per the model's contract), one tensor
 * per input model.json declares, row-major in its declared shape with `batch` rows.
 */
export interface ModelInputs {
  readonly batch: number;
  readonly tensors: Readonly<Record<string, Float32Array | BigInt64Array>>;
}

/** Every output model.json declares, by name, row-major in its declared shape (every contract has `quantiles`). */
export type ModelOutputs = { readonly quantiles: Float32Array } & Readonly<Record<string, Float32Array>>;

export interface ModelSession {
  readonly provider: ExecutionProvider;
  /** Why `auto` fell back to CPU, when it did. */
  readonly fallbackReason: string | undefined;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  release(): Promise<void>;
}

let logLevelSet = false;

/** Where onnxruntime-node looks for the CUDA provider libraries (installed by ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false). */
export function cudaProviderLibrary(): string {
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', `${process.platform}/${process.arch}`, 'libonnxruntime_providers_cuda.so');
}

/** CUDA options from the config (onnxruntime-node exposes the device id only; see README, "GPU"). */
export interface CudaOptions {
  readonly deviceId: number;
}

/**
 * Creates a session. `auto` tries CUDA and falls back to CPU with the reason; `cuda` fails
 * with a clear ModelError when the CUDA provider cannot be created.
 */
export async function createModelSession(model: LoadedModel, device: Device, threads: number, cuda: CudaOptions = { deviceId: 0 }): Promise<ModelSession> {
  if (!logLevelSet) {
    // ORT prints its own line on a failed CUDA attempt; the sidecar reports it instead
    ort.env.logLevel = 'fatal';
    logLevelSet = true;
  }
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Measured on the 2-core machine, 2 workers × 1 thread, batch 32 (inference alone): without
    // the memory pattern (ORT's plan of one block for every intermediate tensor of a run) peak
    // RSS is ~60 MB lower at the same series/s; without the CPU memory arena inference is ~4×
    // slower and peak RSS no lower, so the arena stays.
    enableCpuMemArena: true,
    enableMemPattern: false,
    // Flush denormal floats to zero (FTZ/DAZ on the session's threads): some intermediate values of
    // the graph fall below float32's normal range, where the CPU slows down many-fold per operation.
    // Measured on the 2-core machine, one thread, batch of 8 servers, interleaved: 5–12 % less CPU
    // per batch; the fixture's outputs are bit-identical (a denormal is below 1.2e-38).
    extra: { session: { set_denormal_as_zero: '1' } },
  };
  let session: ort.InferenceSession | undefined;
  let provider: ExecutionProvider = 'cpu';
  let fallbackReason: string | undefined;
  if (device !== 'cpu') {
    try {
      session = await ort.InferenceSession.create(model.onnx, { ...base, executionProviders: [{ name: 'cuda', deviceId: cuda.deviceId }] });
      provider = 'cuda';
    } catch (e) {
      const lib = cudaProviderLibrary();
      const notInstalled = process.platform === 'linux' && !existsSync(lib);
      const reason = notInstalled
        ? `the CUDA provider libraries are not installed (${lib} is missing; install with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false, see README "GPU")`
        : `device ${cuda.deviceId}: ${e instanceof Error ? e.message.split('\n')[0]! : String(e)}`;
      if (device === 'cuda') {
        throw new ModelError(`device: cuda requested but the CUDA execution provider could not be created: ${reason}`);
      }
      // device auto on a CPU-only install (the usual case) is said briefly; `device: cuda` gives
      // the file and how to install it. A driver or library that fails to load is a problem: in full.
      fallbackReason = notInstalled
        ? 'CUDA execution provider unavailable: provider libraries not installed'
        : `CUDA execution provider unavailable (${reason}); using CPU`;
    }
  }
  if (!session) {
    try {
      session = await ort.InferenceSession.create(model.onnx, { ...base, executionProviders: ['cpu'] });
    } catch (e) {
      throw new ModelError(`${model.dir}/model.onnx: ONNX Runtime cannot load it: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const s = session;
  const declared = model.manifest;
  return {
    provider,
    fallbackReason,
    async run(i: ModelInputs): Promise<ModelOutputs> {
      const b = i.batch;
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of declared.inputs) {
        const data = i.tensors[t.name];
        const dims = t.shape.map((d) => (d === 'batch' ? b : d));
        const size = dims.reduce((a, d) => a * d, 1);
        if (!data || data.length !== size)
          throw new ModelError(`input "${t.name}": expected ${size} values [${dims.join(', ')}], got ${data?.length ?? 'none'}`);
        feeds[t.name] = t.dtype === 'int64' ? new ort.Tensor('int64', data as BigInt64Array, dims) : new ort.Tensor('float32', data as Float32Array, dims);
      }
      const out = await s.run(feeds);
      const outputs: Record<string, Float32Array> = {};
      for (const t of declared.outputs) {
        const v = out[t.name];
        if (!v) throw new ModelError(`model.onnx produced no output "${t.name}"`);
        outputs[t.name] = v.data as Float32Array;
      }
      if (!outputs['quantiles']) throw new ModelError('model.onnx produced no output "quantiles"');
      return outputs as ModelOutputs;
    },
    release: () => s.release(),
  };
}
