/**
 * `npm run bench`: the sidecar's cost at 20, 1,000 and 5,000 instances × 6 metrics on this
 * machine — cycle time per stage, inference series/s, event-loop lag, /metrics latency during
 * a cycle, peak RSS — with augurs AutoETS's per-series time in the same run for comparison.
 * Writes the table into the README between the bench markers.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../config/load';
import { createApp } from '../app/app';

export interface BenchRow {
  readonly instances: number;
  readonly series: number;
  readonly sourceSeconds: number;
  readonly forecastSeconds: number;
  readonly totalSeconds: number;
  readonly seriesPerSecond: number;
  readonly maxLoopLagMs: number;
  /** Longest time until /metrics answered (status and headers) during the cycle. */
  readonly maxMetricsMs: number;
  /** Longest time until its whole body was read. */
  readonly maxMetricsBodyMs: number;
  readonly metricsBytes: number;
  readonly peakRssMb: number;
}

function histogramSum(text: string, stage: string): number {
  const m = new RegExp(`^foresight_cycle_duration_seconds_sum\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

export interface BenchOptions {
  /** model.device for the measured sidecar: cpu (default), cuda or auto. */
  readonly device: 'cpu' | 'cuda' | 'auto';
  /** model.batch_size: series per inference call (GPUs want large batches). */
  readonly batch: number;
}

async function benchOne(instances: number, repoRoot: string, o: BenchOptions, log: (m: string) => void): Promise<BenchRow & { provider: string }> {
  const now = Math.floor(Date.now() / 1000 / 300) * 300 + 60;
  const loaded = await parseConfig(
    { listen: '127.0.0.1:0', source: { type: 'simulator', interval: '24h', simulator: { servers: instances } }, model: { device: o.device, batch_size: o.batch } },
    'bench',
  );
  const app = createApp({ loaded, repoRoot, now: () => now, log: () => undefined });
  // start() runs a first cycle, which also fills the simulator's cache: the measured cycle
  // below reads the same window, so its source stage is the in-memory read, not simulation
  await app.start();
  const before = await (await fetch(`${app.address()}/metrics`)).text();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let maxMetricsMs = 0;
  let maxMetricsBodyMs = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const t0 = performance.now();
      const res = await fetch(`${app.address()}/metrics`);
      // answered: status and headers are back; the body of a large fleet then streams for a while
      maxMetricsMs = Math.max(maxMetricsMs, performance.now() - t0);
      await res.text();
      maxMetricsBodyMs = Math.max(maxMetricsBodyMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await app.runCycle();
  polling = false;
  await poll;
  lag.disable();
  const after = await (await fetch(`${app.address()}/metrics`)).text();
  await app.stop();
  const delta = (stage: string): number => histogramSum(after, stage) - histogramSum(before, stage);
  const series = instances * 6;
  const provider = /foresight_model_info\{[^}]*execution_provider="([^"]+)"/.exec(after)?.[1] ?? 'unknown';
  const row: BenchRow & { provider: string } = {
    provider,
    instances,
    series,
    sourceSeconds: delta('source'),
    forecastSeconds: delta('forecast'),
    totalSeconds: delta('total'),
    seriesPerSecond: series / delta('forecast'),
    maxLoopLagMs: lag.max / 1e6,
    maxMetricsMs,
    maxMetricsBodyMs,
    metricsBytes: after.length,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  log(`${instances} instances: ${JSON.stringify(row)}`);
  return row;
}

async function autoEtsMs(): Promise<number> {
  const base = path.dirname(require.resolve('@bsull/augurs'));
  const ets = await import('@bsull/augurs/ets');
  await ets.default({ module_or_path: await readFile(path.join(base, 'ets_bg.wasm')) });
  const y = Float64Array.from({ length: 576 }, (_, i) => 40 + 15 * Math.sin((2 * Math.PI * i) / 288) + 3 * Math.sin(i * 1.7));
  const t0 = performance.now();
  const n = 50;
  for (let i = 0; i < n; i++) {
    const m = new ets.AutoETS(1, 'ZZN');
    m.fit(y);
    m.predict(96, 0.8);
    m.free();
  }
  return (performance.now() - t0) / n;
}

export async function runBench(sizes: readonly number[], repoRoot: string, log: (m: string) => void, o: BenchOptions = { device: 'cpu', batch: 64 }): Promise<string> {
  const rows: Array<BenchRow & { provider: string }> = [];
  for (const n of sizes) rows.push(await benchOne(n, repoRoot, o, log));
  const provider = rows[0]?.provider ?? 'unknown';
  const etsMs = await autoEtsMs();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
  let md = `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, onnxruntime-node, execution provider ${provider} (2 threads, batch ${o.batch}), simulated fleet as the source.\n\n`;
  md += '| instances | series | source s | forecast s | cycle s | inference series/s | max event-loop lag ms | max /metrics answer during cycle ms | max /metrics full body ms | /metrics size MB | peak RSS MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of rows) {
    md += `| ${r.instances} | ${r.series} | ${f(r.sourceSeconds, 2)} | ${f(r.forecastSeconds, 1)} | ${f(r.totalSeconds, 1)} | ${f(r.seriesPerSecond, 0)} | ${f(r.maxLoopLagMs, 0)} | ${f(r.maxMetricsMs, 0)} | ${f(r.maxMetricsBodyMs, 0)} | ${f(r.metricsBytes / 1e6, 1)} | ${f(r.peakRssMb, 0)} |\n`;
  }
  md += `\nFor comparison, augurs AutoETS (what Grafana's forecasting uses) takes ${f(etsMs, 1)} ms per series here (fit on 2 days + 8 h forecast, one series at a time), so ${f(6000 * etsMs / 1000, 0)} s for 1,000 instances × 6 metrics on one core. "source s" is the read of an in-memory window (the first cycle filled the simulator's cache); against Prometheus add its query time. Peak RSS is the whole process, inference worker included, after the largest size so far.\n`;
  const readme = path.join(repoRoot, 'README.md');
  const text = await readFile(readme, 'utf8');
  // GPU runs (any provider but cpu) get their own README table, so the CPU table is never overwritten
  const key = provider === 'cpu' ? 'bench' : 'bench-gpu';
  const start = `<!-- ${key}:start -->`;
  const end = `<!-- ${key}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) await writeFile(readme, text.slice(0, i + start.length) + '\n' + md + text.slice(j));
  return md;
}
