/**
 * The main-thread side of inference: sessions that live in the process's one inference worker
 * (see worker.ts for why there is only one). `startInferenceRunner` resolves once the model is
 * loaded there, or rejects with the reason.
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
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor() {
    this.worker = new Worker(workerScript());
    // the worker must not keep the process alive on its own
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    const fail = (e: Error): void => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      if (shared === this) shared = undefined;
    };
    this.worker.on('error', (e) => fail(new Error(`inference worker crashed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`inference worker exited (${code})`)));
  }

  request(msg: Record<string, unknown>): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id });
    });
  }
}

let shared: InferenceWorker | undefined;

export async function startInferenceRunner(modelDir: string, device: Device, threads: number): Promise<InferenceRunner> {
  shared ??= new InferenceWorker();
  const worker = shared;
  let loaded: Reply;
  try {
    loaded = await worker.request({ type: 'load', modelDir, device, threads });
  } catch (e) {
    throw new ModelError(e instanceof Error ? e.message : String(e));
  }
  const session = loaded['session'] as number;
  let stopping: Promise<void> | undefined;
  return {
    provider: loaded['provider'] as ExecutionProvider,
    fallbackReason: loaded['fallbackReason'] as string | undefined,
    async run(inputs: ModelInputs): Promise<ModelOutputs> {
      const r = await worker.request({ type: 'run', session, inputs });
      return r['outputs'] as ModelOutputs;
    },
    stop(): Promise<void> {
      stopping ??= worker.request({ type: 'release', session }).then(
        () => undefined,
        () => undefined,
      );
      return stopping;
    },
  };
}
