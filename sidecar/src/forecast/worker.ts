/**
 * Inference worker thread: loads the model once and runs batches, so a long inference never
 * blocks the event loop that serves /metrics (ORT's run() computes on the calling thread).
 *
 * Messages in: { id, inputs } → out: { id, outputs } | { id, error }.
 * At start it posts { type: 'ready', provider, fallbackReason } or { type: 'failed', message }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFiles } from './manifest';
import { createModelSession } from './session';
import type { Device, ModelInputs, ModelSession } from './session';

interface WorkerConfig {
  readonly modelDir: string;
  readonly device: Device;
  readonly threads: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const cfg = workerData as WorkerConfig;
  let session: ModelSession;
  try {
    session = await createModelSession(await loadModelFiles(cfg.modelDir), cfg.device, cfg.threads);
  } catch (e) {
    port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  port.postMessage({ type: 'ready', provider: session.provider, fallbackReason: session.fallbackReason });
  port.on('message', (msg: { id: number; inputs: ModelInputs } | { type: 'close' }) => {
    if ('type' in msg) {
      void session.release().finally(() => port.close());
      return;
    }
    session.run(msg.inputs).then(
      (outputs) => port.postMessage({ id: msg.id, outputs }, [outputs.quantiles.buffer, outputs.encoder_weights.buffer] as ArrayBuffer[]),
      (e: unknown) => port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
}

void main();
