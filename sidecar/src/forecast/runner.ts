/**
 * The main-thread side of inference: a pool of inference worker threads, each holding one
 * session of the model. `startInferenceRunner` resolves once the model is loaded in every
 * worker it uses, or rejects with the reason.
 *
 * Why several single-threaded workers rather than one worker with more intra-op threads: on
 * the 2-core development machine two 1-thread sessions run 6,000 series about 25 % faster than
 * one 2-thread session (the TFT is many small element-wise ops that parallelise poorly inside
 * one call). A CUDA session is one per process: the GPU batches internally.
 *
 * Workers live as long as the process (see worker.ts): a reload loads a new session into the
 * same workers and releases the old one.
 */
import { RequestWorker, workerScriptPath } from '../threads';
import type { Device, ExecutionProvider, ModelInputs, ModelOutputs } from './session';
import { ModelError } from './manifest';

export interface RunOptions {
  /** Move the input tensors' buffers to the worker instead of copying them (default false). */
  readonly transfer?: boolean;
  /** With `transfer`: called with the input tensors once the run is done with them, for the next batch to be written into. */
  readonly recycle?: (tensors: ModelInputs['tensors']) => void;
}

export interface InferenceRunner {
  readonly provider: ExecutionProvider;
  readonly fallbackReason: string | undefined;
  /** Batches that can run at once (one per worker in use). */
  readonly concurrency: number;
  /**
   * Runs one batch on the least busy worker. `transfer`: the inputs' buffers move to the worker
   * instead of being copied (they are unusable here afterwards): a cycle builds each batch once,
   * and a copy per batch would leave hundreds of MB of dead buffers per cycle for the collector.
   */
  run(inputs: ModelInputs, options?: RunOptions): Promise<ModelOutputs>;
  /** Releases the session (the worker stays for the next one). Idempotent. */
  stop(): Promise<void>;
}

/** The compiled worker: next to this file in dist/, or dist/ when running from sources (tests). */
function workerScript(): string {
  const { found, tried } = workerScriptPath(__dirname, 'forecast', 'worker.js');
  if (!found) throw new ModelError(`inference worker not found at ${tried.join(' or ')}: run npm run build`);
  return found;
}

class InferenceWorker extends RequestWorker {
  constructor() {
    super(workerScript(), 'inference worker', () => {
      const i = pool.indexOf(this);
      if (i >= 0) pool.splice(i, 1);
    });
  }
}

/** The process's workers, created on demand and kept (a crashed one is dropped and replaced on the next load). */
const pool: InferenceWorker[] = [];

async function load(
  worker: InferenceWorker,
  modelDir: string,
  device: Device,
  threads: number,
  cudaDeviceId: number,
): Promise<{ worker: InferenceWorker; session: number; provider: ExecutionProvider; fallbackReason: string | undefined }> {
  try {
    const r = await worker.request({ type: 'load', modelDir, device, threads, cudaDeviceId });
    return { worker, session: r['session'] as number, provider: r['provider'] as ExecutionProvider, fallbackReason: r['fallbackReason'] as string | undefined };
  } catch (e) {
    throw new ModelError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * Loads the model into `workers` worker threads (`threads` intra-op threads each). When the
 * first one gets CUDA, it is the only one used.
 */
export interface RunnerOptions {
  readonly device: Device;
  /** ONNX Runtime intra-op threads per worker. */
  readonly threads: number;
  /** Worker threads (CPU); a CUDA session uses one. */
  readonly workers: number;
  readonly cudaDeviceId: number;
}

export async function startInferenceRunner(modelDir: string, o: RunnerOptions): Promise<InferenceRunner> {
  const { device, threads, workers, cudaDeviceId } = o;
  while (pool.length < workers) pool.push(new InferenceWorker());
  const first = await load(pool[0]!, modelDir, device, threads, cudaDeviceId);
  const loaded = [first];
  if (first.provider === 'cpu' && workers > 1) {
    const rest = await Promise.allSettled(pool.slice(1, workers).map((w) => load(w, modelDir, 'cpu', threads, cudaDeviceId)));
    for (const r of rest) if (r.status === 'fulfilled') loaded.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(loaded.map((l) => l.worker.request({ type: 'release', session: l.session }).catch(() => undefined)));
      throw failed.reason instanceof Error ? failed.reason : new ModelError(String(failed.reason));
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    provider: first.provider,
    fallbackReason: first.fallbackReason,
    concurrency: loaded.length,
    async run(inputs: ModelInputs, options?: RunOptions): Promise<ModelOutputs> {
      // the least busy worker takes the batch
      let best = loaded[0]!;
      for (const l of loaded) if (l.worker.pending.size < best.worker.pending.size) best = l;
      // each buffer once: two tensors may share one
      const transfer = options?.transfer ? [...new Set(Object.values(inputs.tensors).map((t) => t.buffer as ArrayBuffer))] : [];
      const recycle = options?.transfer === true ? options.recycle : undefined;
      const r = await best.worker.request({ type: 'run', session: best.session, inputs, giveBack: recycle !== undefined }, transfer);
      if (recycle && r['inputs']) recycle((r['inputs'] as ModelInputs).tensors);
      return r['outputs'] as ModelOutputs;
    },
    stop(): Promise<void> {
      stopping ??= Promise.all(loaded.map((l) => l.worker.request({ type: 'release', session: l.session }).catch(() => undefined))).then(() => undefined);
      return stopping;
    },
  };
}
