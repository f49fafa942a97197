/**
 * `npm run bench:prometheus`: the sidecar against a real Prometheus at fleet scale. Simulated
 * node_exporter history for N servers is backfilled with promtool, a Prometheus is started on
 * it that also scrapes the sidecar, and the sidecar runs two cycles against it. Reported: the
 * sidecar's source stage (its own foresight_cycle_duration_seconds), Prometheus' own
 * scrape_duration_seconds and scrape_samples_scraped for the sidecar target, and the cost of the
 * history queries per query and per server: the 5-minute window the model reads, and one
 * query_range at a 1 h step over 8 days (the week of context the shipped model, contract version 2, reads).
 * Writes the table into docs/scaling.md between the bench-prometheus markers (see docs/blocks.ts).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { stringify } from 'yaml';
import { parseConfig } from '../config/load';
import { createApp } from '../app/app';
import { servingContract } from '../forecast/contract';
import { loadModelFiles } from '../forecast/manifest';
import { METRIC_NAMES } from '../profiles/profiles';
import type { MetricName } from '../profiles/profiles';
import { METRICS } from '../source/promql';
import { Simulation } from '../simulator/simulation';
import { scaleFleet } from '../simulator/fleet';
import { advanceCounters, familyHeaders, initialCounters, renderTimestampedSamples } from '../simulator/node-exporter';
import { writeBlock } from '../docs/blocks';
import { freePort, startProcess, waitFor } from '../processes';
import type { ManagedProcess } from '../processes';
import { medianOf } from '../series/robust';

const HOUR = 3600;
const DAY = 86400;

/** The binaries the bench runs; the same variables the integration tests read. */
export function prometheusBinaries(env: NodeJS.ProcessEnv = process.env): { prometheus: string; promtool: string } {
  return { prometheus: env['FORESIGHT_PROMETHEUS_BIN'] ?? '/usr/bin/prometheus', promtool: env['FORESIGHT_PROMTOOL_BIN'] ?? '/usr/bin/promtool' };
}

/** The binaries that are not there (or not executable), as "name (path)". */
export function missingBinaries(bins: { prometheus: string; promtool: string }): string[] {
  return Object.entries(bins)
    .filter(([, file]) => {
      try {
        accessSync(file, constants.X_OK);
        return false;
      } catch {
        return true;
      }
    })
    .map(([name, file]) => `${name} (${file})`);
}

export interface PrometheusBenchOptions {
  readonly servers: number;
  /** Seconds of full-resolution history before the end (what the model's 5-minute window reads, plus margin). */
  readonly denseSeconds: number;
  /** Seconds of history in all (≥ denseSeconds); before the dense part only hourly samples. */
  readonly totalSeconds: number;
  /** Scrape interval of the dense history, seconds. */
  readonly scrapeSeconds: number;
  /** How often the bench's Prometheus scrapes the sidecar, seconds. */
  readonly sidecarScrapeSeconds: number;
  readonly seed: number;
}

/** Bump when historyTimes or FleetHistoryWriter write other samples: cached blocks are keyed by it. */
const HISTORY_LAYOUT = 2;

/** Before the dense part, each hour has samples at hh:00 − this and hh:00: two inside rate()'s 5-minute window. */
const SPARSE_LEAD = 240;

/**
 * Sample times of the backfilled history, strictly increasing, the last at `end`: before the
 * dense part only (hh:00 − 4 min, hh:00) per hour, the samples a query at a 1 h step on the hour
 * reads (rate()[5m] needs two inside its window; a gauge needs one within the 5-minute lookback);
 * then every scrape interval over the last `denseSeconds`.
 */
export function historyTimes(end: number, o: Pick<PrometheusBenchOptions, 'denseSeconds' | 'totalSeconds' | 'scrapeSeconds'>): number[] {
  const denseStart = end - Math.floor(o.denseSeconds / o.scrapeSeconds) * o.scrapeSeconds;
  const times: number[] = [];
  for (let h = Math.ceil((end - o.totalSeconds) / HOUR) * HOUR; h - SPARSE_LEAD < denseStart; h += HOUR) {
    times.push(h - SPARSE_LEAD);
    // an hour at the dense part's start gets its lead sample only: the dense part has the rest
    if (h < denseStart) times.push(h);
  }
  for (let t = denseStart; t <= end; t += o.scrapeSeconds) if (times.length === 0 || t > times[times.length - 1]!) times.push(t);
  return times;
}

/** Counters are integrated at most this coarsely between written samples (finer inside the dense part). */
function innerSteps(dt: number): number {
  return Math.ceil(dt / (dt <= 300 ? 60 : 900));
}

/**
 * node_exporter history of the whole fleet as OpenMetrics for promtool, written in parts (each a
 * complete file) that continue one another: counters are integrated between samples, also
 * across parts and the sparse hours, so they only grow.
 */
export class FleetHistoryWriter {
  private readonly counters: ReturnType<typeof initialCounters>[];
  /** Sample lines per server (fixed by its hardware); 0 until its first sample. */
  private readonly perServer: number[];
  private last: number | undefined;

  constructor(private readonly sim: Simulation) {
    this.counters = sim.servers.map((s) => initialCounters(sim.seed, s));
    this.perServer = new Array<number>(sim.servers.length).fill(0);
  }

  /** Series in all (known once a part has been written). */
  get series(): number {
    return this.perServer.reduce((a, b) => a + b, 0);
  }

  /** Every server at every time (each after the previous part's last); returns the samples written. */
  async write(times: readonly number[], out: Writable): Promise<number> {
    const { sim, counters, perServer } = this;
    let buf = familyHeaders('openmetrics');
    let samples = 0;
    for (const t of times) {
      if (this.last !== undefined && !(t > this.last)) throw new RangeError(`sample times must rise (${t} after ${this.last})`);
      const dt = this.last === undefined ? 0 : t - this.last;
      const n = dt > 0 ? innerSteps(dt) : 0;
      for (let i = 0; i < sim.servers.length; i++) {
        const s = sim.servers[i]!;
        const c = counters[i]!;
        for (let j = n - 1; j >= 1; j--) advanceCounters(c, sim.gauges(s, t - (j * dt) / n), dt / n);
        const g = sim.gauges(s, t);
        if (n > 0) advanceCounters(c, g, dt / n);
        const lines = renderTimestampedSamples({ server: s, gauges: g, counters: c }, t);
        if (perServer[i] === 0) perServer[i] = lines.split('\n').length - 1;
        samples += perServer[i]!;
        buf += lines;
        if (buf.length > 1 << 20) {
          if (!out.write(buf)) await once(out, 'drain');
          buf = '';
        }
      }
      this.last = t;
    }
    buf += '# EOF\n';
    if (!out.write(buf)) await once(out, 'drain');
    return samples;
  }
}

interface HistoryBlocks {
  readonly dir: string;
  readonly end: number;
  readonly series: number;
  readonly samples: number;
  /** Writing and backfilling, overlapped: wall-clock seconds. */
  readonly buildSeconds: number;
  readonly blocks: number;
  readonly blockBytes: number;
  readonly cached: boolean;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? await dirBytes(p) : (await stat(p)).size;
  }
  return total;
}

/**
 * TSDB blocks of the fleet's history, cached in the temp directory by the options, the layout
 * and the simulator's code (generating and backfilling 2,000 servers takes minutes): a rerun reuses them
 * with the end they were made with. Only the latest set is kept.
 */
async function historyBlocks(o: PrometheusBenchOptions, promtool: string, log: (m: string) => void): Promise<HistoryBlocks> {
  const simDir = path.join(__dirname, '..', 'simulator');
  // the simulator's code is part of the key, and the layout's version
  const code = await Promise.all(
    (await readdir(simDir))
      .filter((f) => /\.(js|ts)$/.test(f))
      .sort()
      .map((f) => readFile(path.join(simDir, f), 'utf8')),
  );
  const key = createHash('sha256')
    .update(
      JSON.stringify({ layout: HISTORY_LAYOUT, servers: o.servers, dense: o.denseSeconds, total: o.totalSeconds, scrape: o.scrapeSeconds, seed: o.seed, code }),
    )
    .digest('hex')
    .slice(0, 16);
  const root = path.join(os.tmpdir(), 'foresight-bench-prometheus');
  const dir = path.join(root, key);
  const meta = await readFile(path.join(dir, 'bench.json'), 'utf8').then(
    (t) => JSON.parse(t) as Omit<HistoryBlocks, 'dir' | 'cached'>,
    () => undefined,
  );
  if (meta) {
    log(`reusing the backfilled history in ${dir} (ends ${new Date(meta.end * 1000).toISOString()})`);
    return { ...meta, dir, cached: true };
  }
  await mkdir(root, { recursive: true });
  for (const old of await readdir(root)) await rm(path.join(root, old), { recursive: true, force: true });
  const work = await mkdtemp(path.join(root, 'tmp-'));
  try {
    const end = Math.floor(Date.now() / 1000 / HOUR) * HOUR;
    const times = historyTimes(end, o);
    const writer = new FleetHistoryWriter(new Simulation({ fleet: scaleFleet(o.servers), seed: o.seed, scenario: 'healthy' }));
    const blocks = path.join(work, 'blocks');
    // in parts of ~10 M samples: promtool backfills one part (a block of its own) while the next
    // is written, so the two overlap on two cores, and no part's file is large
    const perPart = Math.max(1, Math.floor(10e6 / (o.servers * 50)));
    const parts = Math.ceil(times.length / perPart);
    log(`writing ${o.servers} servers' history (${times.length} sample times) in ${parts} parts, each backfilled by promtool into ${blocks}`);
    const t0 = performance.now();
    let samples = 0;
    let backfilling: Promise<void> = Promise.resolve();
    for (let k = 0; k < parts; k++) {
      const om = path.join(work, `part-${k}.om`);
      const out = createWriteStream(om);
      samples += await writer.write(times.slice(k * perPart, (k + 1) * perPart), out);
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      await backfilling;
      log(`part ${k + 1} of ${parts} written (${(samples / 1e6).toFixed(0)} M samples so far, ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      backfilling = (async () => {
        const p = startProcess(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=504h', om, blocks]);
        const code = await p.exited;
        if (code !== 0) throw new Error(`promtool backfill failed (exit ${code}):\n${p.output()}`);
        await rm(om);
      })();
      // a failure is reported when awaited, before the next part starts or at the end
      backfilling.catch(() => undefined);
    }
    await backfilling;
    const buildSeconds = (performance.now() - t0) / 1000;
    const made: Omit<HistoryBlocks, 'dir' | 'cached'> = {
      end,
      series: writer.series,
      samples,
      buildSeconds,
      blocks: (await readdir(blocks)).length,
      blockBytes: await dirBytes(blocks),
    };
    log(`${made.series} series, ${samples} samples: ${made.blocks} blocks, ${(made.blockBytes / 1e6).toFixed(0)} MB, in ${buildSeconds.toFixed(0)} s`);
    await writeFile(path.join(blocks, 'bench.json'), JSON.stringify(made));
    await rename(blocks, dir);
    return { ...made, dir, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface QueryAnswer {
  readonly wallMs: number;
  readonly bytes: number;
  readonly series: number;
  readonly points: number;
  /** Prometheus' own timings (stats=all): the whole execution, seconds. */
  readonly execSeconds: number;
  /** Samples Prometheus loaded to answer (stats=all); undefined where the server does not report it. */
  readonly queriedSamples: number | undefined;
  /** Most samples in memory at once (stats=all), what --query.max-samples (default 50 M) limits. */
  readonly peakSamples: number | undefined;
}

/** A POST to Prometheus' HTTP API without Accept-Encoding, as the sidecar's source asks: `bytes` is the JSON the sidecar receives. */
function post(base: string, apiPath: string, params: Record<string, string>): Promise<{ bytes: Buffer; ms: number }> {
  const body = new URLSearchParams(params).toString();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(apiPath, base),
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          if (res.statusCode !== 200)
            return reject(new Error(`${apiPath} ${params['query']}: HTTP ${res.statusCode}: ${bytes.toString('utf8').slice(0, 300)}`));
          resolve({ bytes, ms: performance.now() - t0 });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface ApiAnswer<T> {
  readonly status: string;
  readonly data: {
    readonly result: T;
    // totalQueryableSamples up to Prometheus 2.4x, totalQueriedSamples in later versions
    readonly stats?: {
      readonly timings?: { readonly execTotalTime?: number };
      readonly samples?: { readonly totalQueryableSamples?: number; readonly totalQueriedSamples?: number; readonly peakSamples?: number };
    };
  };
}

async function queryRange(base: string, expr: string, start: number, end: number, step: number): Promise<QueryAnswer> {
  const { bytes, ms } = await post(base, '/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(step), stats: 'all' });
  const a = JSON.parse(bytes.toString('utf8')) as ApiAnswer<Array<{ values: unknown[] }>>;
  return {
    wallMs: ms,
    bytes: bytes.length,
    series: a.data.result.length,
    points: a.data.result.reduce((n, s) => n + s.values.length, 0),
    execSeconds: a.data.stats?.timings?.execTotalTime ?? NaN,
    queriedSamples: a.data.stats?.samples?.totalQueriedSamples ?? a.data.stats?.samples?.totalQueryableSamples,
    peakSamples: a.data.stats?.samples?.peakSamples,
  };
}

/** Raw samples of a series selector over the last `seconds` (an instant query of a range vector). */
async function rawSamples(base: string, selector: string, seconds: number): Promise<Array<[number, number]>> {
  const { bytes } = await post(base, '/api/v1/query', { query: `${selector}[${seconds}s]` });
  const a = JSON.parse(bytes.toString('utf8')) as ApiAnswer<Array<{ values: Array<[number, string]> }>>;
  return (a.data.result[0]?.values ?? []).map(([t, v]) => [t, Number(v)]);
}

async function instantValue(base: string, expr: string): Promise<number> {
  const { bytes } = await post(base, '/api/v1/query', { query: expr });
  const a = JSON.parse(bytes.toString('utf8')) as ApiAnswer<Array<{ value: [number, string] }>>;
  return Number(a.data.result[0]?.value[1] ?? NaN);
}

function stageSeconds(text: string, stage: string): number {
  const m = new RegExp(`^foresight_cycle_duration_seconds_sum\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const fmt = (x: number | undefined, d = 1): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : '—');
const loads = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

interface CycleStages {
  readonly source: number;
  readonly forecast: number;
  readonly total: number;
}

interface QueryRow {
  readonly window: 'day' | 'week';
  readonly metric: MetricName;
  readonly answer: QueryAnswer;
}

export interface PrometheusBenchResult {
  readonly markdown: string;
}

/** Runs the bench; `log` gets progress lines. Assumes the binaries exist (the CLI checks). */
export async function runPrometheusBench(repoRoot: string, o: PrometheusBenchOptions, log: (m: string) => void): Promise<PrometheusBenchResult> {
  const bins = prometheusBinaries();
  const loadBefore = loads();
  const history = await historyBlocks(o, bins.promtool, log);
  const { manifest } = await loadModelFiles(path.join(repoRoot, 'models', 'foresight-tft'));
  const step = manifest.step_seconds;
  const end = history.end;

  const work = await mkdtemp(path.join(os.tmpdir(), 'foresight-bench-prom-run-'));
  let prometheus: ManagedProcess | undefined;
  let app: ReturnType<typeof createApp> | undefined;
  try {
    const dataDir = path.join(work, 'data');
    await cp(history.dir, dataDir, { recursive: true, filter: (src) => path.basename(src) !== 'bench.json' });
    const [promPort, sidecarPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${promPort}`;
    const config = {
      global: { scrape_interval: `${o.sidecarScrapeSeconds}s`, scrape_timeout: `${o.sidecarScrapeSeconds}s`, evaluation_interval: '1m' },
      scrape_configs: [
        { job_name: 'foresight', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${sidecarPort}`] }] },
        { job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${promPort}`] }] },
      ],
    };
    const configFile = path.join(work, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    prometheus = startProcess(
      bins.prometheus,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        '--storage.tsdb.retention.time=3650d',
        // no compaction of the backfilled blocks while the bench measures
        '--storage.tsdb.max-block-duration=2h',
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { killAfterMs: 10_000 },
    );
    const prom = prometheus;
    const died = prom.exited.then((c) => {
      throw new Error(`prometheus exited (code ${c}):\n${prom.output()}`);
    });
    died.catch(() => undefined);
    await Promise.race([waitFor('prometheus to be ready', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined), 300_000, 500), died]);
    const version = await fetch(`${base}/api/v1/status/buildinfo`)
      .then((r) => r.json() as Promise<{ data?: { version?: string } }>)
      .then(
        (b) => b.data?.version ?? 'unknown',
        () => 'unknown',
      );
    log(`prometheus ${version} ready at ${base} on ${history.series} series`);

    const loaded = await parseConfig(
      {
        listen: `127.0.0.1:${sidecarPort}`,
        // cycles only when the bench asks (runCycle); the first at start
        source: { type: 'prometheus', interval: '24h', prometheus: { url: base, timeout: '300s', retries: 0 } },
        model: { device: 'cpu' },
      },
      'bench',
    );
    app = createApp({ loaded, repoRoot, now: () => end, log: (m) => log(`sidecar: ${m}`) });
    const metricsText = async (): Promise<string> => (await fetch(`${app!.address()}/metrics`)).text();
    const stages = (text: string): CycleStages => ({
      source: stageSeconds(text, 'source'),
      forecast: stageSeconds(text, 'forecast'),
      total: stageSeconds(text, 'total'),
    });
    await app.start();
    const published = Date.now() / 1000;
    const afterFirst = await metricsText();
    const first = stages(afterFirst);
    const exposed = afterFirst.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const instances = Number(/^foresight_instances (\S+)$/m.exec(afterFirst)?.[1]);
    log(
      `first cycle: ${JSON.stringify(first)}; /metrics has ${exposed} samples, ${(Buffer.byteLength(afterFirst) / 1e6).toFixed(1)} MB, ${instances} instances`,
    );

    // Prometheus scrapes what the first cycle published (twice), then the second cycle runs
    // every scrape attempt records its duration, a failed one (up 0) too
    const scrapesSince = async (t: number): Promise<number> =>
      (await rawSamples(base, 'scrape_duration_seconds{job="foresight"}', 3600)).filter(([ts]) => ts > t).length;
    await waitFor(
      'two scrapes of the published forecasts',
      async () => ((await scrapesSince(published)) >= 2 ? true : undefined),
      10 * o.sidecarScrapeSeconds * 1000,
      500,
    );
    const c0 = Date.now() / 1000;
    await app.runCycle();
    const c1 = Date.now() / 1000;
    const afterSecond = await metricsText();
    const total = stages(afterSecond);
    const second: CycleStages = { source: total.source - first.source, forecast: total.forecast - first.forecast, total: total.total - first.total };
    log(`second cycle: ${JSON.stringify(second)}`);
    await waitFor('a scrape after the second cycle', async () => ((await scrapesSince(c1)) >= 1 ? true : undefined), 10 * o.sidecarScrapeSeconds * 1000, 500);

    const since = Math.ceil(Date.now() / 1000 - published) + o.sidecarScrapeSeconds;
    const durations = (await rawSamples(base, 'scrape_duration_seconds{job="foresight"}', since)).filter(([t]) => t > published);
    const scraped = (await rawSamples(base, 'scrape_samples_scraped{job="foresight"}', since)).filter(([t]) => t > published);
    const failed = (await rawSamples(base, 'up{job="foresight"}', since)).filter(([t, v]) => t > published && v === 0).length;
    const during = durations.filter(([t]) => t >= c0 && t <= c1).map(([, v]) => v);
    const promRss = await instantValue(base, 'process_resident_memory_bytes{job="prometheus"}');
    const headSeries = await instantValue(base, 'prometheus_tsdb_head_series{job="prometheus"}');
    log(`scrapes: ${JSON.stringify({ durations, scraped })}`);

    // the history queries, one at a time after the cycles (warm, as every 5 minutes in service)
    const queries: QueryRow[] = [];
    const historyLength = servingContract(manifest).historyLength;
    const windows = [
      { window: 'day' as const, start: end - (historyLength - 1) * step, step },
      { window: 'week' as const, start: end - 8 * DAY, step: HOUR },
    ];
    for (const w of windows) {
      for (const metric of METRIC_NAMES) {
        await queryRange(base, METRICS[metric].expr, w.start, end, w.step);
        const answer = await queryRange(base, METRICS[metric].expr, w.start, end, w.step);
        log(`${w.window} ${metric}: ${JSON.stringify(answer)}`);
        queries.push({ window: w.window, metric, answer });
      }
    }
    const loadAfter = loads();

    const when = new Date().toISOString().slice(0, 10);
    const cpus = os.cpus();
    const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const dense = o.denseSeconds / HOUR;
    const weekDays = o.totalSeconds / DAY;
    let md = `Measured by \`npm run bench:prometheus -- --servers ${o.servers}\` on ${when}: ${machine}; Prometheus ${version} on the same machine; the sidecar with 2 inference workers (CPU). `;
    md += `Load averages (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter} — the machine was shared, other jobs ran beside the bench.\n\n`;
    md += `History backfilled with promtool: ${int(o.servers)} simulated servers, ${int(history.series)} node_exporter series (2–4 cores each), the last ${fmt(dense, 0)} h every ${o.scrapeSeconds} s and, before that back to ${fmt(weekDays, 0)} days, two samples per series per hour (hh:56, hh:00: what a query on the hour reads); ${fmt(history.samples / 1e6, 0)} M samples, ${history.blocks} blocks of ${fmt(history.blockBytes / 1e6, 0)} MB in all${history.cached ? '' : `, written and backfilled in ${fmt(history.buildSeconds / 60, 1)} min`}.\n\n`;
    md += '| sidecar cycle | source s | forecast s | cycle s |\n|---|---:|---:|---:|\n';
    md += `| first (Prometheus just started) | ${fmt(first.source, 2)} | ${fmt(first.forecast, 1)} | ${fmt(first.total, 1)} |\n`;
    md += `| second | ${fmt(second.source, 2)} | ${fmt(second.forecast, 1)} | ${fmt(second.total, 1)} |\n\n`;
    const dur = durations.map(([, v]) => v);
    md += `| Prometheus scraping the sidecar (every ${o.sidecarScrapeSeconds} s) | |\n|---|---:|\n`;
    md += `| scrapes after the first cycle (failed) | ${durations.length} (${failed}) |\n`;
    const samplesScraped = Math.max(...scraped.map(([, v]) => v));
    md += `| scrape_samples_scraped | ${int(samplesScraped)} (${fmt(samplesScraped / o.servers, 0)} per server) |\n`;
    md += `| /metrics body | ${fmt(Buffer.byteLength(afterSecond) / 1e6, 1)} MB |\n`;
    md += `| scrape_duration_seconds, median / max | ${fmt(medianOf(dur, 0, dur.length), 2)} / ${fmt(Math.max(...dur), 2)} |\n`;
    md += `| scrape_duration_seconds during the second cycle, max (${during.length} scrapes) | ${fmt(during.length ? Math.max(...during) : NaN, 2)} |\n`;
    md += `| Prometheus RSS after, head series | ${fmt(promRss / 1e6, 0)} MB, ${int(headSeries)} |\n\n`;
    md +=
      '| history query_range (default expression, one at a time) | series | points | answer MB | Prometheus exec ms | wall ms | samples loaded | peak samples |\n|---|---:|---:|---:|---:|---:|---:|---:|\n';
    const label = { day: `${historyLength} × ${step / 60} min`, week: '8 days × 1 h' };
    const opt = (x: number | undefined): string => (x === undefined ? '—' : int(x));
    for (const w of ['day', 'week'] as const) {
      const picked = queries.filter((q) => q.window === w);
      const rows = picked.map((q) => q.answer);
      for (const { metric, answer: a } of picked) {
        md += `| ${label[w]}: ${metric} | ${int(a.series)} | ${int(a.points)} | ${fmt(a.bytes / 1e6, 2)} | ${int(a.execSeconds * 1000)} | ${int(a.wallMs)} | ${opt(a.queriedSamples)} | ${opt(a.peakSamples)} |\n`;
      }
      const sum = (f: (a: QueryAnswer) => number | undefined): number => rows.reduce((n, a) => n + (f(a) ?? NaN), 0);
      const [points, mb, execMs, wallMs, loaded] = [
        sum((a) => a.points),
        sum((a) => a.bytes) / 1e6,
        sum((a) => a.execSeconds) * 1000,
        sum((a) => a.wallMs),
        sum((a) => a.queriedSamples),
      ];
      const peak = Math.max(...rows.map((a) => a.peakSamples ?? NaN));
      md += `| **${label[w]}: six metrics** | ${int(sum((a) => a.series))} | ${int(points)} | ${fmt(mb, 1)} | ${int(execMs)} | ${int(wallMs)} | ${int(loaded)} | ${int(peak)} (max) |\n`;
      md += `| per server | | ${fmt(points / o.servers, 0)} | ${fmt((mb * 1e3) / o.servers, 1)} KB | ${fmt(execMs / o.servers, 2)} | ${fmt(wallMs / o.servers, 2)} | ${int(loaded / o.servers)} | |\n`;
    }
    md += `\n"source s" is the sidecar's own \`foresight_cycle_duration_seconds{stage="source"}\`: its six \`query_range\` reads in parallel, answers parsed in a worker thread. The query table runs the same default expressions one at a time after the cycles (each run twice, the second reported), without gzip, as the sidecar asks; "samples loaded" and "peak samples" are Prometheus' own \`stats=all\` figures (the peak is what \`--query.max-samples\`, 50 M by default, limits). The 8-day hourly read is the shipped model's week of context (contract version 2); before the last ${fmt(dense, 0)} h the backfill holds only the samples such a read touches, so its Prometheus time is a lower bound for a fully scraped week (answer size and points are exact). Scrape figures are Prometheus' own \`scrape_duration_seconds\` and \`scrape_samples_scraped\` for the sidecar target (\`honor_labels: true\`).\n`;
    log(`wrote the table into ${await writeBlock(repoRoot, 'bench-prometheus', md)}`);
    return { markdown: md };
  } finally {
    await app?.stop();
    await prometheus?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
