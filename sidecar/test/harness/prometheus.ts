/**
 * Real Prometheus for integration tests: backfill history with promtool into a fresh data dir,
 * start /usr/bin/prometheus on a free loopback port with a generated config, wait until ready,
 * and stop it by PID afterwards.
 */
import { cp, mkdtemp, mkdir, rename, rm, writeFile, readFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stringify } from 'yaml';
import { BINARIES } from './integration';
import { freePort, startProcess, waitFor } from './processes';
import type { ManagedProcess } from './processes';
import { Simulation } from '../../src/simulator/simulation';
import type { FleetSpec } from '../../src/simulator/fleet';
import { DEFAULT_FLEET } from '../../src/simulator/fleet';
import { parseSchedule } from '../../src/simulator/scenario';
import { scheduleIncidents, writeHistory } from '../../src/simulator/history';
import type { IncidentRecord } from '../../src/simulator/incidents';

const tempDirs: string[] = [];

/** A fresh temporary directory, removed when the test process exits normally. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `foresight-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Runs promtool to turn an OpenMetrics file into TSDB blocks in `outDir`. */
export async function backfill(openMetricsFile: string, outDir: string): Promise<void> {
  const p = startProcess(BINARIES.promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=24h', openMetricsFile, outDir]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`promtool backfill failed (exit ${code}):\n${p.output()}`);
}

export interface SimulatedHistory {
  readonly blocksDir: string;
  readonly sim: Simulation;
  readonly incidents: readonly IncidentRecord[];
  /** Unix seconds of the first and one past the last sample. */
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

export interface SimulatedHistoryOptions {
  readonly days: number;
  readonly end: number;
  readonly seed?: number;
  readonly fleet?: FleetSpec;
  readonly schedule?: string;
  readonly incidents?: number;
  /** Incidents are placed in [start + incidentsFrom, start + incidentsTo) seconds. */
  readonly incidentsWindow?: readonly [number, number];
  /** Incidents at chosen places: onset in seconds after the start, ramp in seconds. */
  readonly incidentSpecs?: ReadonlyArray<{ readonly instance: string; readonly onsetOffset: number; readonly rampSeconds: number }>;
  readonly step?: number;
  /** A job label on every backfilled sample (as `foresight simulate history` writes by default). */
  readonly job?: string;
}

/**
 * Simulated history backfilled into TSDB blocks. Blocks are cached on disk by their options
 * (generation and backfill take ~20 s for 2 days of 20 servers); the simulation is rebuilt
 * in-process every time, which is cheap and deterministic.
 */
export async function simulatedHistory(o: SimulatedHistoryOptions): Promise<SimulatedHistory> {
  const step = o.step ?? 60;
  const seed = o.seed ?? 1;
  const schedule = parseSchedule(o.schedule ?? 'healthy');
  const sim = new Simulation({ fleet: o.fleet ?? DEFAULT_FLEET, seed, scenario: schedule.initial });
  const end = Math.floor(o.end / step) * step;
  const start = end - Math.round((o.days * 86400) / step) * step;
  for (const sw of schedule.switches) sim.switchScenario(sw.scenario, start + sw.offsetSeconds);
  const [from, to] = o.incidentsWindow ?? [3 * 3600, o.days * 86400];
  const incidents = [
    ...scheduleIncidents(sim, o.incidents ?? 0, start + from, start + to),
    ...(o.incidentSpecs ?? []).map((spec) => sim.injectIncident({ instance: spec.instance, onset: start + spec.onsetOffset, rampSeconds: spec.rampSeconds })),
  ].map((i) => i.toJSON());

  // the key covers the simulator's code too, so a change in behaviour never reuses stale blocks
  const simDir = path.join(__dirname, '..', '..', 'src', 'simulator');
  const code = await Promise.all(
    ['behaviour.ts', 'scenario.ts', 'incidents.ts', 'node-exporter.ts', 'fleet.ts', 'history.ts', 'random.ts'].map((f) =>
      readFile(path.join(simDir, f), 'utf8'),
    ),
  );
  const key = createHash('sha256')
    .update(JSON.stringify({ v: 2, o, step, seed, end, code }))
    .digest('hex')
    .slice(0, 16);
  const cacheRoot = path.join(tmpdir(), 'foresight-test-cache');
  const blocksDir = path.join(cacheRoot, key);
  const exists = await access(path.join(blocksDir, 'DONE')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await mkdir(cacheRoot, { recursive: true });
    const work = await mkdtemp(path.join(cacheRoot, `tmp-${key}-`));
    const om = path.join(work, 'history.om');
    const out = createWriteStream(om);
    await writeHistory(sim, { start, end, step, format: 'openmetrics', ...(o.job !== undefined ? { job: o.job } : {}) }, out);
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const blocks = path.join(work, 'blocks');
    await backfill(om, blocks);
    await writeFile(path.join(blocks, 'DONE'), '');
    await rename(blocks, blocksDir).catch(async () => {
      // another worker won the race; its blocks are identical
    });
    await rm(work, { recursive: true, force: true });
  }
  return { blocksDir, sim, incidents, start, end, step };
}

export interface PrometheusOptions {
  /** TSDB blocks to start from (copied into a fresh data dir: Prometheus compacts its own). */
  readonly blocksDir?: string;
  /** `scrape_configs` entries. */
  readonly scrapeConfigs?: readonly unknown[];
  readonly ruleFiles?: readonly string[];
  /** host:port of an Alertmanager to send alerts to. */
  readonly alertmanager?: string;
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
  /** Listen on this port (default: a free one); lets a test restart Prometheus where clients expect it. */
  readonly port?: number;
}

export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}
export interface PromSeries {
  readonly metric: Record<string, string>;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

export interface PrometheusHandle {
  readonly url: string;
  readonly process: ManagedProcess;
  query(expr: string, time?: number): Promise<PromSample[]>;
  queryRange(expr: string, start: number, end: number, step: number): Promise<PromSeries[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(o: PrometheusOptions = {}): Promise<PrometheusHandle> {
  const dir = await tempDir('prometheus');
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  if (o.blocksDir) {
    await cp(o.blocksDir, dataDir, { recursive: true, filter: (src) => path.basename(src) !== 'DONE' });
  }
  const config: Record<string, unknown> = {
    global: { scrape_interval: o.scrapeInterval ?? '1s', evaluation_interval: o.evaluationInterval ?? '1s' },
    scrape_configs: o.scrapeConfigs ?? [],
  };
  if (o.ruleFiles) config['rule_files'] = o.ruleFiles;
  if (o.alertmanager) config['alerting'] = { alertmanagers: [{ static_configs: [{ targets: [o.alertmanager] }] }] };
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = o.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(BINARIES.prometheus, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--storage.tsdb.retention.time=3650d`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const exitedEarly = proc.exited.then((code) => {
    throw new Error(`prometheus exited (code ${code}) before it was ready:\n${proc.output()}`);
  });
  exitedEarly.catch(() => undefined);
  await Promise.race([waitFor('prometheus /-/ready', async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30000, 100), exitedEarly]);

  async function api<T>(pathAndQuery: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${url}${pathAndQuery}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params).toString(),
    });
    const body = (await res.json()) as { status: string; data?: { result: T }; error?: string };
    if (body.status !== 'success' || !body.data) throw new Error(`prometheus ${pathAndQuery} ${params['query']}: ${body.error ?? res.status}`);
    return body.data.result;
  }

  return {
    url,
    process: proc,
    query: (expr, time) => api<PromSample[]>('/api/v1/query', time === undefined ? { query: expr } : { query: expr, time: String(time) }),
    queryRange: (expr, start, end, step) =>
      api<PromSeries[]>('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(step) }),
    stop: () => proc.stop(),
  };
}

/** Reads a file relative to the repository root (provisioning configs the tests share with users). */
export async function repoFile(relative: string): Promise<string> {
  return readFile(path.join(__dirname, '..', '..', '..', relative), 'utf8');
}
