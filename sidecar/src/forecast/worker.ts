/**
 * Inference worker thread: owns every ONNX session of the process, so a long inference never
 * blocks the event loop that serves /metrics (ORT's run() computes on the calling thread).
 *
 * One worker per process, for its whole life: onnxruntime-node's native addon cannot be loaded
 * again in another thread once loaded ("Module did not self-register"), so reloads add a session
 * here and release the old one instead of starting a new worker.
 *
 * Messages in:  { type: 'load', id, modelDir, device, threads, cudaDeviceId } | { type: 'run', id, session, inputs, giveBack? } | { type: 'release', id, session }
 * Messages out: { id, provider, fallbackReason, session } | { id, outputs, inputs? } | { id, released } | { id, error }
 *
 * `giveBack`: the run's input tensors go back with the outputs (moved, not copied), so the main
 * thread writes the next batch into them instead of this thread collecting a dead copy per batch.
 */
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { loadModelFiles } from './manifest';
import { createModelSession } from './session';
import type { Device, ModelInputs, ModelSession } from './session';

type Message =
  | { type: 'load'; id: number; modelDir: string; device: Device; threads: number; cudaDeviceId: number }
  | { type: 'run'; id: number; session: number; inputs: ModelInputs; giveBack?: boolean }
  | { type: 'release'; id: number; session: number };

// Inference runs below the main thread's priority, so when workers keep every core busy the
// event loop serving /metrics still gets the CPU the moment it needs it. On Linux a nice value
// is per thread (setpriority on "process" 0 is this thread), and ONNX Runtime's intra-op threads
// inherit it. Elsewhere it would renice the whole process, so it is Linux only.
if (process.platform === 'linux') {
  try {
    os.setPriority(0, 10);
  } catch {
    // not allowed here (some container runtimes): inference keeps the default priority
  }
}

const sessions = new Map<number, ModelSession>();
let nextSession = 1;

async function handle(msg: Message): Promise<unknown> {
  switch (msg.type) {
    case 'load': {
      const s = await createModelSession(await loadModelFiles(msg.modelDir), msg.device, msg.threads, { deviceId: msg.cudaDeviceId });
      const session = nextSession++;
      sessions.set(session, s);
      return { id: msg.id, session, provider: s.provider, fallbackReason: s.fallbackReason };
    }
    case 'run': {
      const s = sessions.get(msg.session);
      if (!s) throw new Error(`no session ${msg.session}`);
      const outputs = await s.run(msg.inputs);
      return msg.giveBack ? { id: msg.id, outputs, inputs: msg.inputs } : { id: msg.id, outputs };
    }
    case 'release': {
      await sessions.get(msg.session)?.release();
      sessions.delete(msg.session);
      return { id: msg.id, released: true };
    }
  }
}

parentPort?.on('message', (msg: Message) => {
  handle(msg).then(
    (reply) => {
      const r = reply as { outputs?: Record<string, Float32Array>; inputs?: ModelInputs };
      // each buffer once: two outputs (or inputs) may share one
      const arrays = [...Object.values(r.outputs ?? {}), ...Object.values(r.inputs?.tensors ?? {})];
      const transfer = [...new Set(arrays.map((o) => o.buffer as ArrayBuffer))];
      parentPort!.postMessage(reply, transfer);
    },
    (e: unknown) => parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
