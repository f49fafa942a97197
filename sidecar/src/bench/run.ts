/**
 * `npm run bench`: the sidecar's cost at 20, 1,000 and 5,000 instances × 6 metrics on this
 * machine — cycle time per stage, inference series/s, event-loop lag, /metrics latency during
 * a cycle, peak RSS — with augurs AutoETS's per-series time in the same run for comparison.
 * Writes the table into docs/scaling.md between the bench markers (see docs/blocks.ts).
 */
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { writeBlock } from '../docs/blocks';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { execFile, spawn } from 'node:child_process';
import { parseConfig } from '../config/load';
import { createApp } from '../app/app';
import { loadModelFiles } from '../forecast/manifest';
import type { ServerWindow } from '../forecast/contract';
import { servingContract } from '../forecast/contract';
import { startInferenceRunner } from '../forecast/runner';
import { METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import type { MetricName } from '../profiles/profiles';

/** The model `npm run bench` measures unless told otherwise (--model, FORESIGHT_MODEL). */
export function shippedModelDir(repoRoot: string): string {
  return path.join(repoRoot, 'models', 'foresight-tft');
}

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
  /** The same body gzip-encoded (level 6, as the sidecar sends it to Prometheus). */
  readonly metricsGzipBytes: number;
  readonly peakRssMb: number;
}

/** The cycle stages whose time the bench reports. */
const STAGES = ['source', 'forecast', 'total'] as const;

function histogramSum(text: string, stage: string): number {
  const m = new RegExp(`^foresight_cycle_duration_seconds_sum\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * The lines of a /metrics body that start with one of `prefixes`, read as a stream: the bench
 * runs in the sidecar's process, and holding a 50 MB body there would count in the peak RSS it
 * measures (about 60 MiB at 10,000 servers).
 */
async function metricsLines(url: string, prefixes: readonly string[]): Promise<string> {
  const res = await fetch(url);
  if (!res.body) return '';
  const decoder = new TextDecoder();
  let carry = '';
  const kept: string[] = [];
  const keep = (lines: string[]): void => {
    for (const line of lines) if (prefixes.some((p) => line.startsWith(p))) kept.push(line);
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const lines = (carry + decoder.decode(chunk, { stream: true })).split('\n');
    carry = lines.pop()!;
    keep(lines);
  }
  keep([carry + decoder.decode()]);
  return kept.join('\n');
}

export interface BenchOptions {
  /** model.device for the measured sidecar: cpu (default), cuda or auto. */
  readonly device: 'cpu' | 'cuda' | 'auto';
  /** model.batch_size: rows per inference call (series, or servers for a contract-2 model; GPUs want large batches). */
  readonly batch: number;
  /** The model directory (default: the shipped model); the docs' tables are written only for the shipped model. */
  readonly modelDir?: string;
}

/**
 * The scraper: every 100 ms asks for /metrics and times the answer (status and headers); reads
 * the whole body on every 10th poll only, as reading a large fleet's body each time would keep
 * a core busy as no real scraper (every 15-60 s) does, and slow the cycle being measured.
 * A child process, as Prometheus is: the bodies it reads (tens of MB each at 10,000 servers)
 * are not counted in the sidecar's peak RSS. Prints a line once it has warmed up, polls until
 * its stdin closes, then prints its maxima as JSON.
 */
const POLLER = `
const url = process.argv[1];
let polling = true;
process.stdin.resume();
process.stdin.on('end', () => { polling = false; });
(async () => {
  let maxMetricsMs = 0, maxMetricsBodyMs = 0;
  await (await fetch(url)).arrayBuffer(); // warm up: connection and fetch's own start-up
  process.stdout.write('ready\\n');
  for (let i = 0; polling; i++) {
    const t0 = performance.now();
    const abort = new AbortController();
    const res = await fetch(url, { signal: abort.signal });
    maxMetricsMs = Math.max(maxMetricsMs, performance.now() - t0);
    if (i % 10 === 0) {
      await res.arrayBuffer();
      maxMetricsBodyMs = Math.max(maxMetricsBodyMs, performance.now() - t0);
    } else {
      abort.abort();
      await res.arrayBuffer().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(JSON.stringify({ maxMetricsMs, maxMetricsBodyMs }));
})();
`;

/** Starts the scraper process on `url`, resolving once it polls; `stop()` ends it and resolves with its maxima. */
async function startPoller(url: string): Promise<{ stop: () => Promise<{ maxMetricsMs: number; maxMetricsBodyMs: number }> }> {
  const child = spawn(process.execPath, ['-e', POLLER, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let ready: () => void = () => undefined;
  const warm = new Promise<void>((resolve) => (ready = resolve));
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (out.includes('ready\n')) ready();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('exit', resolve);
    child.once('error', reject);
  });
  await Promise.race([warm, exited.then((code) => Promise.reject(new Error(`the /metrics poller exited with ${code} before polling`)))]);
  return {
    stop: async () => {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`the /metrics poller exited with ${code}`);
      return JSON.parse(out.slice(out.indexOf('ready\n') + 'ready\n'.length)) as { maxMetricsMs: number; maxMetricsBodyMs: number };
    },
  };
}

async function benchOne(instances: number, repoRoot: string, o: BenchOptions, log: (m: string) => void): Promise<BenchRow & { provider: string }> {
  const now = Math.floor(Date.now() / 1000 / 300) * 300 + 60;
  const loaded = await parseConfig(
    {
      listen: '127.0.0.1:0',
      source: { type: 'simulator', interval: '24h', simulator: { servers: instances } },
      model: { path: o.modelDir ?? shippedModelDir(repoRoot), device: o.device, batch_size: o.batch },
    },
    'bench',
  );
  const app = createApp({ loaded, repoRoot, now: () => now, log: () => undefined });
  // start() runs a first cycle, which also fills the simulator's cache: the measured cycle
  // below reads the same window, so its source stage is the in-memory read, not simulation
  await app.start();
  // the stage sums before the measured cycle
  const before = await metricsLines(`${app.address()}/metrics`, ['foresight_cycle_duration_seconds_sum']);
  const sumsBefore = new Map(STAGES.map((st) => [st, histogramSum(before, st)]));
  // the scraper is another process: reading a 95 MB body in this thread would stall the very
  // event loop being measured, and its memory is not the sidecar's
  const poller = await startPoller(`${app.address()}/metrics`);
  // measured from here: starting the scraper is the instrument, not the sidecar
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  await app.runCycle();
  const { maxMetricsMs, maxMetricsBodyMs } = await poller.stop();
  lag.disable();
  // the sidecar's peak, before this process reads the body below to measure it
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const after = await (await fetch(`${app.address()}/metrics`)).text();
  await app.stop();
  const delta = (stage: (typeof STAGES)[number]): number => histogramSum(after, stage) - sumsBefore.get(stage)!;
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
    metricsBytes: Buffer.byteLength(after),
    metricsGzipBytes: gzipSync(after, { level: 6 }).length,
    peakRssMb,
  };
  log(`${instances} instances: ${JSON.stringify(row)}`);
  return row;
}

/**
 * One size's row, measured in a fresh process (this CLI's `bench --one N`): a process that
 * measured a smaller fleet before holds memory from it, which the larger fleet's peak RSS would count.
 */
function benchInChild(instances: number, o: BenchOptions): Promise<BenchRow & { provider: string }> {
  const args = [process.argv[1]!, 'bench', '--one', String(instances), '--batch', String(o.batch), ...(o.modelDir ? ['--model', o.modelDir] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench --one ${instances} exited with ${code}`));
      try {
        resolve(JSON.parse(out) as BenchRow & { provider: string });
      } catch {
        reject(new Error(`bench --one ${instances} printed no row: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** One size measured in this process (`bench --one N`), the row as JSON. */
export async function benchSize(instances: number, repoRoot: string, o: BenchOptions, log: (m: string) => void): Promise<string> {
  return JSON.stringify(await benchOne(instances, repoRoot, o, log));
}

/** GPU memory this process holds (MiB), from nvidia-smi; undefined where there is none. */
function gpuMemoryMiB(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, out) => {
      if (err) return resolve(undefined);
      const mine = out
        .split('\n')
        .map((l) => l.split(',').map((x) => x.trim()))
        .filter(([pid]) => Number(pid) === process.pid);
      resolve(mine.length > 0 ? mine.reduce((a, [, mb]) => a + Number(mb), 0) : 0);
    });
  });
}

export interface InferenceRow {
  readonly device: 'cpu' | 'cuda' | 'auto';
  readonly provider: string;
  readonly workers: number;
  /** Rows per model call (series, or servers for a contract-2 model). */
  readonly batch: number;
  readonly series: number;
  readonly seconds: number;
  readonly seriesPerSecond: number;
  /** Peak GPU memory of this process during the run (MiB); undefined without nvidia-smi. */
  readonly peakGpuMiB: number | undefined;
}

/**
 * Inference alone, through the sidecar's own runner (workers, batching, the real model): about
 * `series` series in calls of `batch` rows (a row is a series, or a server of six series for a
 * contract-2 model), built from simulated-looking windows, no source, no exposition. This is
 * what the 100,000-instance GPU figure is measured with; a full cycle at that size would spend
 * its time simulating two days of history for the bench, not forecasting.
 */
export async function inferenceOnly(
  repoRoot: string,
  device: 'cpu' | 'cuda' | 'auto',
  series: number,
  batch: number,
  workers: number,
  threads = 1,
  modelDir = shippedModelDir(repoRoot),
): Promise<InferenceRow> {
  const { manifest } = await loadModelFiles(modelDir);
  const contract = servingContract(manifest);
  const ln = contract.historyLength;
  const origin = Math.floor(Date.now() / 1000 / 300) * 300;
  // one batch of rows, reused: daily cycles with noise, every profile and metric
  const wave = (n: number, per: number, k: number, j: number): Float64Array =>
    Float64Array.from({ length: n }, (_, i) => 40 + 20 * Math.sin((2 * Math.PI * (i + k)) / per) + 5 * Math.sin(i * 1.7 + j));
  const servers: ServerWindow[] = Array.from({ length: batch }, (_, k) => ({
    profile: PROFILE_NAMES[k % PROFILE_NAMES.length]!,
    origin,
    values: Object.fromEntries(METRIC_NAMES.map((m, j) => [m, wave(ln, 288, k, j)])) as Record<MetricName, Float64Array>,
    ...(contract.context
      ? { context: Object.fromEntries(METRIC_NAMES.map((m, j) => [m, wave(contract.context!.length, 24, k, j)])) as Record<MetricName, Float64Array> }
      : {}),
  }));
  // rotate the metrics so a per-series batch mixes them
  const rows = servers.flatMap((s, k) => contract.rows(s, [...METRIC_NAMES.slice(k % 6), ...METRIC_NAMES.slice(0, k % 6)])).slice(0, batch);
  const inputs = contract.buildInputs(rows);
  const perCall = rows.reduce((a, r) => a + r.metrics.length, 0);
  const runner = await startInferenceRunner(modelDir, { device, threads, workers, cudaDeviceId: 0 });
  try {
    // warm-up (CUDA kernels, arenas): one call per worker, side by side, so the least-busy dispatch
    // gives each its own; a worker's first call (its arena growing) is not part of the timed rate, as
    // AutoETS's warm-up fits are not part of its
    await Promise.all(Array.from({ length: runner.concurrency }, () => runner.run(inputs)));
    let peakGpu = await gpuMemoryMiB();
    let sampling = peakGpu !== undefined;
    const sampler = (async () => {
      while (sampling) {
        const m = await gpuMemoryMiB();
        if (m !== undefined) peakGpu = Math.max(peakGpu ?? 0, m);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const batches = Math.ceil(series / perCall);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: runner.concurrency + 1 }, async () => {
        while (next < batches) {
          next++;
          await runner.run(inputs);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    sampling = false;
    await sampler;
    return {
      device,
      provider: runner.provider,
      workers: runner.concurrency,
      batch,
      series: batches * perCall,
      seconds,
      seriesPerSecond: (batches * perCall) / seconds,
      peakGpuMiB: peakGpu,
    };
  } finally {
    await runner.stop();
  }
}

async function autoEtsMs(): Promise<number> {
  const base = path.dirname(require.resolve('@bsull/augurs'));
  const ets = await import('@bsull/augurs/ets');
  await ets.default({ module_or_path: await readFile(path.join(base, 'ets_bg.wasm')) });
  const y = Float64Array.from({ length: 576 }, (_, i) => 40 + 15 * Math.sin((2 * Math.PI * i) / 288) + 3 * Math.sin(i * 1.7));
  const t0 = performance.now();
  const n = 50;
  for (let i = 0; i < n; i++) {
    const m = new ets.AutoETS(1, 'AZN');
    m.fit(y);
    m.predict(96, 0.8);
    m.free();
  }
  return (performance.now() - t0) / n;
}

/** Whether `modelDir` (undefined: the default) is the shipped model, whose numbers the docs show. */
export function isShipped(repoRoot: string, modelDir: string | undefined): boolean {
  return modelDir === undefined || path.resolve(modelDir) === shippedModelDir(repoRoot);
}

const fmt = (x: number | undefined, d = 1): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');

function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

function gpuName(): Promise<string> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { timeout: 5000 }, (err, out) =>
      resolve(err ? 'no nvidia-smi' : out.trim().split('\n').join('; ')),
    );
  });
}

/** Batch sizes tried on a GPU; the best one is used for the size table. */
const GPU_BATCHES = [256, 1024, 4096, 16384];
/** Full cycles (simulated history, exposition) up to this size; beyond it, inference alone. */
const GPU_CYCLE_MAX = 10_000;

/**
 * The GPU table: inference series/s at several batch sizes, inference time and full
 * cycle time per fleet size, peak GPU memory, and the same machine's CPU throughput for the ratio.
 */
async function runGpuBench(sizes: readonly number[], repoRoot: string, log: (m: string) => void, o: BenchOptions): Promise<string> {
  const probeSeries = 60_000;
  const sweep: InferenceRow[] = [];
  for (const batch of [...new Set([o.batch, ...GPU_BATCHES])].sort((a, b) => a - b)) {
    const r = await inferenceOnly(repoRoot, o.device, probeSeries, batch, 1, 1, o.modelDir);
    log(`inference only, batch ${batch}: ${JSON.stringify(r)}`);
    sweep.push(r);
  }
  const best = sweep.reduce((a, b) => (b.seriesPerSecond > a.seriesPerSecond ? b : a));
  const cores = os.availableParallelism();
  const cpu = await inferenceOnly(repoRoot, 'cpu', Math.min(probeSeries, 200 * cores * 32), 32, cores, 1, o.modelDir);
  log(`cpu inference only: ${JSON.stringify(cpu)}`);
  const rows: Array<{ instances: number; inference: InferenceRow; cycle: (BenchRow & { provider: string }) | undefined }> = [];
  for (const n of sizes) {
    const inference = await inferenceOnly(repoRoot, o.device, n * 6, best.batch, 1, 1, o.modelDir);
    log(`${n} instances, inference only: ${JSON.stringify(inference)}`);
    const cycle = n <= GPU_CYCLE_MAX ? await benchOne(n, repoRoot, { ...o, batch: best.batch }, log) : undefined;
    rows.push({ instances: n, inference, cycle });
  }
  let md = `Measured by \`npm run bench -- --device ${o.device}\` on ${new Date().toISOString().slice(0, 10)}: GPU ${await gpuName()}; ${machine()}; execution provider ${best.provider}.\n\n`;
  md += '| batch | inference series/s | peak GPU MiB |\n|---:|---:|---:|\n';
  for (const r of sweep) md += `| ${r.batch} | ${fmt(r.seriesPerSecond, 0)} | ${fmt(r.peakGpuMiB, 0)} |\n`;
  md += `\nSame machine, CPU (${cpu.workers} workers × 1 thread, batch 32): ${fmt(cpu.seriesPerSecond, 0)} series/s, so the best GPU batch (${best.batch}) is **${fmt(best.seriesPerSecond / cpu.seriesPerSecond, 1)}×** the CPU.\n\n`;
  md += `| instances | series | inference s (batch ${best.batch}) | inference series/s | full cycle s | peak GPU MiB | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n`;
  for (const r of rows) {
    md += `| ${r.instances} | ${r.instances * 6} | ${fmt(r.inference.seconds, 2)} | ${fmt(r.inference.seriesPerSecond, 0)} | ${r.cycle ? fmt(r.cycle.totalSeconds, 1) : `— (> ${GPU_CYCLE_MAX})`} | ${fmt(r.inference.peakGpuMiB, 0)} | ${r.cycle ? fmt(r.cycle.peakRssMb, 0) : '—'} |\n`;
  }
  md += `\n"inference" runs the sidecar's own runner on prepared batches (no source, no exposition); "full cycle" is the whole sidecar on a simulated fleet, measured up to ${GPU_CYCLE_MAX.toLocaleString('en')} instances (beyond that the bench would spend its time simulating history).\n`;
  if (!isShipped(repoRoot, o.modelDir)) log(`the GPU table was not written: ${o.modelDir} is not the shipped model`);
  else if (best.provider === 'cuda') log(`wrote the GPU table into ${await writeBlock(repoRoot, 'bench-gpu', md)}`);
  else log(`the GPU table was not written: the provider was ${best.provider}, not cuda`);
  return md;
}

export async function runBench(
  sizes: readonly number[],
  repoRoot: string,
  log: (m: string) => void,
  o: BenchOptions = { device: 'cpu', batch: 32 },
): Promise<string> {
  if (o.device !== 'cpu') return runGpuBench(sizes, repoRoot, log, o);
  const rows: Array<BenchRow & { provider: string }> = [];
  for (const n of sizes) rows.push(await benchInChild(n, o));
  const provider = rows[0]?.provider ?? 'unknown';
  const etsMs = await autoEtsMs();
  const f = fmt;
  let md = `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine()}, onnxruntime-node, execution provider ${provider} (2 workers × 1 thread, batch ${o.batch}), simulated fleet as the source.\n\n`;
  md +=
    '| instances | series | source s | forecast s | cycle s | inference series/s | max event-loop lag ms | max /metrics answer during cycle ms | max /metrics full body ms | /metrics size MB | /metrics KB per server, plain / gzip | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n';
  for (const r of rows) {
    md += `| ${r.instances} | ${r.series} | ${f(r.sourceSeconds, 2)} | ${f(r.forecastSeconds, 1)} | ${f(r.totalSeconds, 1)} | ${f(r.seriesPerSecond, 0)} | ${f(r.maxLoopLagMs, 0)} | ${f(r.maxMetricsMs, 0)} | ${f(r.maxMetricsBodyMs, 0)} | ${f(r.metricsBytes / 1e6, 1)} | ${f(r.metricsBytes / 1e3 / r.instances, 1)} / ${f(r.metricsGzipBytes / 1e3 / r.instances, 1)} | ${f(r.peakRssMb, 0)} |\n`;
  }
  md += `\nFor comparison, augurs AutoETS (what Grafana's forecasting uses) takes ${f(etsMs, 1)} ms per series here (fit on 2 days + 8 h forecast, one series at a time), so ${f((6000 * etsMs) / 1000, 0)} s for 1,000 instances × 6 metrics on one core. "source s" is the read of an in-memory window (the simulator source copies the window the first cycle read); against Prometheus add its query time. /metrics is polled every 100 ms from a separate process during the cycle (the whole body read every 10th time). Each size runs in a fresh process; its peak RSS is the whole sidecar process over its first two cycles, inference workers included (not the poller, nor the bench reading the body afterwards).\n`;
  if (provider === 'cpu' && isShipped(repoRoot, o.modelDir)) log(`wrote the table into ${await writeBlock(repoRoot, 'bench', md)}`);
  return md;
}
