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
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Device, ExecutionProvider, ModelInputs, ModelOutputs } from './session';
import { ModelError } from './manifest';

export interface InferenceRunner {
  readonly provider: ExecutionProvider;
  readonly fallbackReason: string | undefined;
  /** Batches that can run at once (one per worker in use). */
  readonly concurrency: number;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
  /** Releases the session (the worker stays for the next one). Idempotent. */
  stop(): Promise<void>;
}

/** The compiled worker: next to this file in dist/, or dist/ when running from sources (tests). */
function workerScript(): string {
  const local = path.join(__dirname, 'worker.js');
  if (existsSync(local)) return local;
  const built = path.resolve(__dirname, '..', '..', 'dist', 'forecast', 'worker.js');
  if (existsSync(built)) return built;
  throw new ModelError(`inference worker not found at ${local} or ${built}: run npm run build`);
}

interface Reply {
  id: number;
  error?: string;
  [k: string]: unknown;
}

class InferenceWorker {
  private readonly worker: Worker;
  readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor() {
    this.worker = new Worker(workerScript());
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    const fail = (e: Error): void => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      const i = pool.indexOf(this);
      if (i >= 0) pool.splice(i, 1);
    };
    this.worker.on('error', (e) => fail(new Error(`inference worker crashed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`inference worker exited (${code})`)));
    // an idle worker must not keep the process alive; one with a request in flight does (see
    // request). After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  request(msg: Record<string, unknown>): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }
}

/** The process's workers, created on demand and kept (a crashed one is dropped and replaced on the next load). */
const pool: InferenceWorker[] = [];

async function load(worker: InferenceWorker, modelDir: string, device: Device, threads: number, cudaDeviceId: number): Promise<{ worker: InferenceWorker; session: number; provider: ExecutionProvider; fallbackReason: string | undefined }> {
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
    async run(inputs: ModelInputs): Promise<ModelOutputs> {
      // the least busy worker takes the batch
      let best = loaded[0]!;
      for (const l of loaded) if (l.worker.pending.size < best.worker.pending.size) best = l;
      const r = await best.worker.request({ type: 'run', session: best.session, inputs });
      return r['outputs'] as ModelOutputs;
    },
    stop(): Promise<void> {
      stopping ??= Promise.all(loaded.map((l) => l.worker.request({ type: 'release', session: l.session }).catch(() => undefined))).then(() => undefined);
      return stopping;
    },
  };
}
