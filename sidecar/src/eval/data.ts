/**
 * Evaluation data: the held-out real traces (one folder per source, see cli/eval.ts) and simulator CSV history, on a
 * 5-minute grid with NaN for missing steps. Conversions match models/train/foresight_tft/data.py.
 */
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createGunzip } from 'node:zlib';
import { METRIC_NAMES, isProfileName } from '../profiles/profiles';
import type { MetricName, ProfileName } from '../profiles/profiles';

export const STEP = 300;

export interface EvalHost {
  readonly name: string;
  readonly source: string;
  readonly profile: ProfileName;
  /** Unix seconds of row 0. */
  readonly start: number;
  /** Per metric, one value per step; NaN = missing. Absent metrics are all NaN. */
  readonly values: Readonly<Record<MetricName, Float64Array>>;
  readonly length: number;
}

async function* lines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file);
  const rl = readline.createInterface({ input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    if (line !== '') yield line;
  }
}

type Points = Map<string, Map<MetricName, Map<number, number>>>;

function put(points: Points, host: string, metric: MetricName, t: number, v: number): void {
  let h = points.get(host);
  if (!h) points.set(host, (h = new Map<MetricName, Map<number, number>>()));
  let m = h.get(metric);
  if (!m) h.set(metric, (m = new Map<number, number>()));
  m.set(t, v);
}

function toHosts(points: Points, source: string, profiles: ReadonlyMap<string, ProfileName>): EvalHost[] {
  const hosts: EvalHost[] = [];
  for (const name of [...points.keys()].sort()) {
    const series = points.get(name)!;
    let t0 = Infinity;
    let t1 = -Infinity;
    for (const m of series.values()) {
      for (const t of m.keys()) {
        t0 = Math.min(t0, t);
        t1 = Math.max(t1, t);
      }
    }
    const n = (t1 - t0) / STEP + 1;
    const values = Object.fromEntries(METRIC_NAMES.map((m) => [m, new Float64Array(n).fill(NaN)])) as Record<MetricName, Float64Array>;
    for (const [metric, pts] of series) for (const [t, v] of pts) values[metric][(t - t0) / STEP] = v;
    hosts.push({ name, source, profile: profiles.get(name) ?? 'generic', start: t0, values, length: n });
  }
  return hosts;
}

const clampPct = (v: number): number => Math.min(100, Math.max(0, v));

/** Reads one real source folder, keeping only `wanted` hosts. */
export async function readRealSource(dir: string, wanted: ReadonlySet<string>): Promise<EvalHost[]> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.csv.gz'));
  if (!file) throw new Error(`${dir}: no .csv.gz file`);
  const points: Points = new Map();
  const memUsed = new Map<string, number>();
  const memCap = new Map<string, number>();
  for await (const line of lines(path.join(dir, file))) {
    const [ts, host, metric, value] = line.split(',') as [string, string, string, string];
    if (!wanted.has(host)) continue;
    const t = Number(ts);
    const v = Number(value);
    if (metric === 'cpu_avg_pct' || metric === 'cpu_usage_pct') put(points, host, 'cpu', t, clampPct(v));
    else if (metric === 'mem_usage_kb') memUsed.set(`${host},${t}`, v);
    else if (metric === 'mem_capacity_kb') memCap.set(`${host},${t}`, v);
    else if (metric === 'net_rx_kbps' || metric === 'net_tx_kbps') {
      const prev = points.get(host)?.get('network')?.get(t) ?? 0;
      put(points, host, 'network', t, prev + v * 1024);
    }
  }
  for (const [key, used] of memUsed) {
    const cap = memCap.get(key);
    if (cap && cap > 0) {
      const [host, t] = key.split(',') as [string, string];
      put(points, host, 'memory', Number(t), clampPct((100 * used) / cap));
    }
  }
  return toHosts(points, path.basename(dir), new Map());
}

/** Reads the simulator's CSV history (`timestamp,host,profile,metric,value`), keeping only `wanted` hosts. */
export async function readSimulatorCsv(file: string, wanted: ReadonlySet<string>): Promise<EvalHost[]> {
  const points: Points = new Map();
  const profiles = new Map<string, ProfileName>();
  for await (const line of lines(file)) {
    const [ts, host, profile, metric, value] = line.split(',') as [string, string, string, string, string];
    if (!wanted.has(host)) continue;
    if (isProfileName(profile)) profiles.set(host, profile);
    put(points, host, metric as MetricName, Number(ts), Number(value));
  }
  return toHosts(points, 'simulator', profiles);
}
