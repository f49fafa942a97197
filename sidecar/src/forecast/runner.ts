/**
 * The main-thread side of inference: a worker thread that owns the ONNX session.
 * `startInferenceRunner` resolves once the model is loaded (or rejects with the reason).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Device, ExecutionProvider, ModelInputs, ModelOutputs } from './session';
import { ModelError } from './manifest';

export interface InferenceRunner {
  readonly provider: ExecutionProvider;
  readonly fallbackReason: string | undefined;
  run(inputs: ModelInputs): Promise<ModelOutputs>;
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

export async function startInferenceRunner(modelDir: string, device: Device, threads: number): Promise<InferenceRunner> {
  const worker = new Worker(workerScript(), { workerData: { modelDir, device, threads } });
  const pending = new Map<number, { resolve: (o: ModelOutputs) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;
  const ready = await new Promise<{ provider: ExecutionProvider; fallbackReason: string | undefined }>((resolve, reject) => {
    worker.once('message', (m: { type: string; provider?: ExecutionProvider; fallbackReason?: string; message?: string }) => {
      if (m.type === 'ready') resolve({ provider: m.provider!, fallbackReason: m.fallbackReason });
      else reject(new ModelError(m.message ?? 'inference worker failed to start'));
    });
    worker.once('error', (e) => reject(new ModelError(`inference worker crashed: ${e.message}`)));
  }).catch(async (e: unknown) => {
    await worker.terminate();
    throw e;
  });
  worker.on('message', (m: { id?: number; outputs?: ModelOutputs; error?: string }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.outputs) p.resolve(m.outputs);
    else p.reject(new Error(m.error ?? 'inference failed'));
  });
  const fail = (e: Error): void => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', (e) => fail(new Error(`inference worker crashed: ${e.message}`)));
  worker.on('exit', (code) => fail(new Error(`inference worker exited (${code})`)));
  let stopping: Promise<void> | undefined;
  return {
    ...ready,
    run(inputs: ModelInputs): Promise<ModelOutputs> {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<ModelOutputs>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, inputs });
      });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        worker.removeAllListeners('exit');
        worker.postMessage({ type: 'close' });
        const timer = setTimeout(() => void worker.terminate(), 2000);
        await new Promise<void>((r) => worker.once('exit', () => r()));
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
