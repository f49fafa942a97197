/**
 * Worker thread of the inference bench: fits augurs AutoETS (spec AZN) and forecasts 8 h on
 * `count` series, one at a time, and reports the milliseconds it took.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { etsSeries } from './ets-series';

async function main(): Promise<void> {
  // the same CPU priority as the inference workers (forecast/worker.ts, Linux: per thread), so
  // both compete alike with whatever else runs on the machine
  if (process.platform === 'linux') {
    try {
      os.setPriority(0, 10);
    } catch {
      // not allowed here: the inference workers could not lower theirs either
    }
  }
  const { count, offset, horizon } = workerData as { count: number; offset: number; horizon: number };
  const base = path.dirname(require.resolve('@bsull/augurs'));
  const ets = await import('@bsull/augurs/ets');
  await ets.default({ module_or_path: await readFile(path.join(base, 'ets_bg.wasm')) });
  const series = Array.from({ length: count }, (_, i) => etsSeries(offset + i));
  // warm-up, not timed: ten fits and forecasts, so V8 has compiled the WASM it runs to optimised
  // code (it starts with a quick baseline compile), as in a process that keeps AutoETS loaded; the
  // model is timed after a warm-up run too
  for (let i = 0; i < 10; i++) {
    const m = new ets.AutoETS(1, 'AZN');
    try {
      m.fit(series[i % series.length]!);
      m.predict(horizon, 0.8);
    } finally {
      m.free();
    }
  }
  const t0 = performance.now();
  for (const y of series) {
    const m = new ets.AutoETS(1, 'AZN');
    try {
      m.fit(y);
      m.predict(horizon, 0.8);
    } finally {
      m.free();
    }
  }
  parentPort!.postMessage({ ms: performance.now() - t0 });
}

void main().catch((e: unknown) => parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) }));
