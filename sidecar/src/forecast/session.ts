/**
 * ONNX Runtime sessions for a validated model: execution-provider choice and batched runs.
 * Inference runs here, on the calling thread; the serving loop calls it from a worker thread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from './manifest';
import { ModelError, SERVING_CONTRACT } from './manifest';

export type Device = 'auto' | 'cuda' | 'cpu';
export type ExecutionProvider = 'cuda' | 'cpu';

/** Flat model inputs for `batch` series, row-major in the shapes model.json declares. */
export interface ModelInputs {
  readonly batch: number;
  readonly past_target: Float32Array;
  readonly past_target_mask: Float32Array;
  readonly past_observed: Float32Array;
  readonly past_observed_mask: Float32Array;
  readonly known: Float32Array;
  readonly static_profile: BigInt64Array;
  readonly static_metric: BigInt64Array;
}

export interface ModelOutputs {
  /** [batch, decoder_length, quantiles], metric units. */
  readonly quantiles: Float32Array;
  readonly static_weights: Float32Array;
  readonly encoder_weights: Float32Array;
  readonly decoder_weights: Float32Array;
  readonly attention: Float32Array;
}

export interface ModelSession {
  readonly provider: ExecutionProvider;
  /** Why `auto` fell back to CPU, when it did. */
  readonly fallbackReason: string | undefined;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  release(): Promise<void>;
}

let logLevelSet = false;

/** Where onnxruntime-node looks for the CUDA provider libraries (installed by ONNXRUNTIME_NODE_INSTALL=cuda12). */
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
  const base: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  let session: ort.InferenceSession | undefined;
  let provider: ExecutionProvider = 'cpu';
  let fallbackReason: string | undefined;
  if (device !== 'cpu') {
    try {
      session = await ort.InferenceSession.create(model.onnx, { ...base, executionProviders: [{ name: 'cuda', deviceId: cuda.deviceId }] });
      provider = 'cuda';
    } catch (e) {
      const lib = cudaProviderLibrary();
      const reason =
        process.platform === 'linux' && !existsSync(lib)
          ? `the CUDA provider libraries are not installed (${lib} is missing; install with ONNXRUNTIME_NODE_INSTALL=cuda12, see README "GPU")`
          : `device ${cuda.deviceId}: ${e instanceof Error ? e.message.split('\n')[0]! : String(e)}`;
      if (device === 'cuda') {
        throw new ModelError(`device: cuda requested but the CUDA execution provider could not be created: ${reason}`);
      }
      fallbackReason = `CUDA execution provider unavailable (${reason}); using CPU`;
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
  const m = model.manifest;
  const te = m.encoder_length;
  const t = te + m.decoder_length;
  const nm = SERVING_CONTRACT.metrics.length;
  const nk = SERVING_CONTRACT.known.length;
  return {
    provider,
    fallbackReason,
    async run(i: ModelInputs): Promise<ModelOutputs> {
      const b = i.batch;
      const feeds: Record<string, ort.Tensor> = {
        past_target: new ort.Tensor('float32', i.past_target, [b, te]),
        past_target_mask: new ort.Tensor('float32', i.past_target_mask, [b, te]),
        past_observed: new ort.Tensor('float32', i.past_observed, [b, te, nm]),
        past_observed_mask: new ort.Tensor('float32', i.past_observed_mask, [b, te, nm]),
        known: new ort.Tensor('float32', i.known, [b, t, nk]),
        static_profile: new ort.Tensor('int64', i.static_profile, [b]),
        static_metric: new ort.Tensor('int64', i.static_metric, [b]),
      };
      const out = await s.run(feeds);
      const get = (name: string): Float32Array => {
        const v = out[name];
        if (!v) throw new ModelError(`model.onnx produced no output "${name}"`);
        return v.data as Float32Array;
      };
      return {
        quantiles: get('quantiles'),
        static_weights: get('static_weights'),
        encoder_weights: get('encoder_weights'),
        decoder_weights: get('decoder_weights'),
        attention: get('attention'),
      };
    },
    release: () => s.release(),
  };
}
