/**
 * Request/reply over a worker thread, shared by the inference workers (forecast/runner.ts) and
 * the query_range parser (source/matrix.ts): numbered requests, replies matched by id, every
 * pending request rejected if the thread dies, and the thread kept alive only while a request
 * is in flight.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * A compiled worker script: `file` next to the calling module in dist/, or under dist/`dir`
 * when running from sources (tests). Undefined when neither exists.
 */
export function workerScriptPath(callerDir: string, dir: string, file: string): { found?: string; tried: readonly string[] } {
  const local = path.join(callerDir, file);
  const built = path.resolve(callerDir, '..', '..', 'dist', dir, file);
  for (const p of [local, built]) if (existsSync(p)) return { found: p, tried: [local, built] };
  return { tried: [local, built] };
}

export interface Reply {
  readonly id: number;
  readonly error?: string;
  readonly [k: string]: unknown;
}

export class RequestWorker {
  /** Requests in flight (callers balance load on it). */
  readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly worker: Worker;
  private nextId = 1;
  private dead: Error | undefined;

  /** `label` names the thread in errors ("inference worker crashed: …"); `onDead` runs once it is gone. */
  constructor(script: string, label: string, onDead: () => void) {
    this.worker = new Worker(script);
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
      onDead();
    };
    this.worker.on('error', (e) => fail(new Error(`${label} crashed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`${label} exited (${code})`)));
    // an idle worker must not keep the process alive; one with a request in flight does (see
    // request). After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  /** Sends `msg` with a fresh id (and `transfer`red buffers); resolves with the reply, rejects with its error. */
  request(msg: Record<string, unknown>, transfer: readonly ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, [...transfer]);
    });
  }
}
