/**
 * How each profile's servers behave: the instantaneous gauges of one server at one instant,
 * as a pure function of (seed, server, time, scenario timeline, incidents).
 *
 * The shapes are what a forecaster can learn and a risk engine can misjudge: daily and
 * weekly cycles, batch windows, training runs at ~100 % CPU, database page cache, disks that
 * fill and get cleaned, memory leaks that end in a restart, ingest bursts, noise and rare spikes.
 */
import type { ProfileName } from '../profiles/profiles';
import type { SimServer } from './fleet';
import type { IncidentBook } from './incidents';
import type { ScenarioTimeline } from './scenario';
import { clamp, smoothNoise, uniform } from './random';

/** One server's state at an instant, in the units node_exporter's metrics derive from. */
export interface Gauges {
  /** CPU busy, % of all cores, excluding iowait. */
  cpu: number;
  /** CPU time waiting for I/O, % of all cores. */
  iowait: number;
  /** Memory used, % of MemTotal (what MemAvailable does not cover). */
  memory: number;
  /** Used % of the root filesystem. */
  rootDisk: number;
  /** Used % of /data; 0 when the server has no /data volume. */
  dataDisk: number;
  /** Load average per core. */
  load: number;
  /** Bytes per second received / transmitted on the physical NIC. */
  rx: number;
  tx: number;
}

export interface SimContext {
  readonly seed: number;
  readonly timeline: ScenarioTimeline;
  readonly incidents: IncidentBook;
}

const HOUR = 3600;
const DAY = 86400;

function frac(x: number): number {
  return x - Math.floor(x);
}

/** 1 at the server's 15:00 local peak, 0 at 03:00. */
function dailyCycle(s: SimServer, t: number): number {
  const h = frac((t / HOUR + s.phaseHours) / 24) * 24;
  return 0.5 + 0.5 * Math.cos((2 * Math.PI * (h - 15)) / 24);
}

/** 0.6 on Saturday and Sunday (UTC), 1 on weekdays. 1970-01-01 was a Thursday. */
function weekly(t: number): number {
  const dow = (Math.floor(t / DAY) + 4) % 7;
  return dow === 0 || dow === 6 ? 0.6 : 1;
}

/** Whether an ml_compute server is inside a training run: 8-hour blocks, ~60 % of them with a 3–7 h run. */
function inTrainingRun(seed: number, s: SimServer, t: number): boolean {
  const hours = t / HOUR;
  const block = Math.floor(hours / 8);
  if (uniform(seed, s.index, 50, block) >= 0.6) return false;
  const start = block * 8 + uniform(seed, s.index, 51, block);
  const duration = 3 + 4 * uniform(seed, s.index, 52, block);
  return hours >= start && hours < start + duration;
}

/** risk_analytics nightly batch window, 01:00–04:00 server time. */
function inBatchWindow(s: SimServer, t: number): boolean {
  const h = frac((t / HOUR + s.phaseHours) / 24) * 24;
  return h >= 1 && h < 4;
}

/** data_ingest bursts: in ~70 % of 4-hour blocks, one 30–60 min burst. */
function inIngestBurst(seed: number, s: SimServer, t: number): boolean {
  const hours = t / HOUR;
  const block = Math.floor(hours / 4);
  if (uniform(seed, s.index, 53, block) >= 0.7) return false;
  const start = block * 4 + uniform(seed, s.index, 54, block) * 3;
  const duration = 0.5 + 0.5 * uniform(seed, s.index, 55, block);
  return hours >= start && hours < start + duration;
}

/** Rare spikes: ~3 % of hours have one, lasting 6 minutes. */
function spike(seed: number, s: SimServer, t: number): number {
  const hour = Math.floor(t / HOUR);
  if (uniform(seed, s.index, 60, hour) >= 0.03) return 0;
  const start = hour * HOUR + uniform(seed, s.index, 61, hour) * (HOUR - 360);
  return t >= start && t < start + 360 ? 1 : 0;
}

/** The server's baseline for its profile, before scenario stress and incidents. */
export function baselineGauges(seed: number, s: SimServer, t: number, busy: boolean): Gauges {
  const n = (channel: number, period = 1800): number => smoothNoise(seed, s.index, channel, t, period) - 0.5;
  const jitter = (channel: number): number => uniform(seed, s.index, channel, Math.floor(t / 15)) - 0.5;
  const day = dailyCycle(s, t);
  const week = weekly(t);
  // memory that grows until the process is restarted (sawtooth, up to +12 points)
  const leak = s.leakPeriodHours > 0 ? 12 * frac(t / HOUR / s.leakPeriodHours + s.index * 0.37) : 0;
  // logs and packages fill / over a week and logrotate/cleanup brings it back
  const rootDisk = 28 + 14 * frac(t / (7 * DAY) + s.index * 0.13) + 0.3 * n(7, 7200);
  const sp = spike(seed, s, t);
  const g: Gauges = {
    cpu: 0,
    iowait: 1 + 1.5 * (n(3) + 0.5),
    memory: 0,
    rootDisk,
    dataDisk: 0,
    load: 0,
    rx: 0,
    tx: 0,
  };
  let net = 0;
  switch (s.profile) {
    case 'ml_compute': {
      if (busy && inTrainingRun(seed, s, t)) {
        // training: every core busy, dataset in RAM, reading shards
        g.cpu = 96 + 3 * n(1, 600) + 0.5 * jitter(11);
        g.memory = 62 + 8 * n(2, 3600) + leak;
        g.iowait = 2 + n(3);
        net = 40e6 + 10e6 * n(4);
      } else {
        g.cpu = 10 + 8 * day + 6 * n(1) + jitter(11) + 10 * sp;
        g.memory = 26 + 6 * n(2, 3600) + leak;
        net = 4e6 + 8e6 * day;
      }
      g.dataDisk = 45 + 25 * frac(t / (3 * DAY) + s.index * 0.29) + 0.2 * n(8); // checkpoints, pruned every 3 days
      break;
    }
    case 'database': {
      g.cpu = 10 + 18 * day * week + 4 * n(1) + jitter(11) + 25 * sp;
      // RAM full of page cache by design: MemAvailable stays small but the host is fine
      g.memory = 95 + 2 * n(2, 7200) + 0.3 * jitter(12);
      g.iowait = 2 + 5 * day * week + 2 * (n(3) + 0.5);
      g.dataDisk = 60 + 14 * frac(t / (5 * DAY) + s.index * 0.41) + 0.2 * n(8); // archived every 5 days
      net = 5e6 + 20e6 * day * week;
      break;
    }
    case 'web_api': {
      g.cpu = 8 + 24 * day * week + 4 * n(1) + jitter(11) + 8 * sp;
      g.memory = 32 + 4 * n(2, 3600) + leak;
      net = 10e6 + 40e6 * day * week + 5e6 * n(4);
      break;
    }
    case 'conductor_mgmt': {
      g.cpu = 4 + 3 * day + 2 * n(1) + 0.5 * jitter(11) + 20 * sp;
      g.memory = 35 + 3 * n(2, 3600) + leak;
      net = 1e6 + 1e6 * day;
      break;
    }
    case 'data_ingest': {
      const burst = inIngestBurst(seed, s, t);
      g.cpu = 12 + 8 * day + 4 * n(1) + jitter(11) + (burst ? 18 : 0) + 25 * sp;
      g.memory = 40 + 5 * n(2, 3600) + leak;
      g.iowait += burst ? 6 : 0;
      // the landing zone fills for 36 h, then the compaction job empties it
      g.dataDisk = 40 + 38 * frac(t / (36 * HOUR) + s.index * 0.23) + 0.2 * n(8);
      // bursts peak around 55 MB/s, below where the profile's network "watch" band starts
      // (65 MB/s): at 70 MB/s a normal burst plus its rise and the disk's forecast scored
      // degrading on a healthy fleet
      net = (burst ? 45e6 : 18e6) + 10e6 * n(4) + 5e6 * day;
      break;
    }
    case 'risk_analytics': {
      if (inBatchWindow(s, t)) {
        g.cpu = 88 + 8 * n(1, 600) + jitter(11);
        g.memory = 70 + 8 * n(2, 1800);
        g.iowait = 6 + 2 * n(3);
      } else {
        g.cpu = 10 + 6 * day + 3 * n(1) + jitter(11) + 25 * sp;
        g.memory = 38 + 4 * n(2, 3600) + leak;
      }
      g.dataDisk = 55 + 10 * frac(t / (7 * DAY)) + 0.2 * n(8);
      net = 3e6 + 6e6 * day;
      break;
    }
    case 'generic': {
      g.cpu = 10 + 14 * day * week + 4 * n(1) + jitter(11) + 25 * sp;
      g.memory = 38 + 4 * n(2, 3600) + leak;
      net = 2e6 + 4e6 * day;
      break;
    }
  }
  g.load = 0.05 + (g.cpu + g.iowait) / 100 + 0.1 * n(5, 900) + 0.6 * sp;
  g.rx = Math.max(0, net) * 0.6;
  g.tx = Math.max(0, net) * 0.4;
  return g;
}

/** Where a scenario drives a profile's key metrics: [degrading low, high, critical low, high]. The critical range lies past each profile's critical threshold (the contract package's profiles.ts). */
type StressTargets = Partial<Record<'cpu' | 'memory' | 'dataDisk' | 'rootDisk' | 'iowait' | 'load', readonly [number, number, number, number]>>;
const TARGET_CHANNEL: Readonly<Record<keyof StressTargets, number>> = { cpu: 1, memory: 2, dataDisk: 3, rootDisk: 4, iowait: 5, load: 6 };
const STRESS_TARGETS: Readonly<Record<ProfileName, StressTargets>> = {
  ml_compute: { memory: [86, 91, 98.5, 99.8], load: [1.2, 1.5, 2.5, 3.5] },
  database: { dataDisk: [82, 86, 93, 97], iowait: [14, 18, 32, 40] },
  web_api: { cpu: [72, 80, 92, 99], load: [0.9, 1.1, 2.2, 3] },
  conductor_mgmt: { cpu: [55, 65, 90, 97], memory: [70, 74, 86, 92] },
  data_ingest: { dataDisk: [82, 86, 96, 99], iowait: [16, 20, 35, 45] },
  risk_analytics: { memory: [87, 91, 96, 99.5], cpu: [80, 85, 92, 98] },
  generic: { cpu: [80, 86, 96, 99.5], memory: [85, 88, 96, 99] },
};

/** The server's gauges at t: baseline, then scenario stress, then any incident, bounded to physical ranges. */
export function serverGauges(ctx: SimContext, s: SimServer, t: number): Gauges {
  const scenario = ctx.timeline.scenarioAt(t);
  const g = baselineGauges(ctx.seed, s, t, scenario === 'busy');
  const base = { ...g };
  for (const stress of ctx.timeline.stressesAt(s, t)) {
    if (stress.scenario !== 'degrading' && stress.scenario !== 'critical') continue;
    const targets = STRESS_TARGETS[s.profile];
    for (const [key, range] of Object.entries(targets) as Array<[keyof StressTargets, readonly [number, number, number, number]]>) {
      const [lo, hi] = stress.scenario === 'degrading' ? [range[0], range[1]] : [range[2], range[3]];
      // each server settles at its own point of the range, with a little wander
      const target = lo + (hi - lo) * uniform(ctx.seed, s.index, 70, TARGET_CHANNEL[key]) + 0.3 * (smoothNoise(ctx.seed, s.index, 71, t, 600) - 0.5);
      const field = key === 'dataDisk' && s.dataSizeBytes === 0 ? 'rootDisk' : key;
      const pulled = base[field] + (target - base[field]) * stress.intensity;
      if (pulled > g[field]) g[field] = pulled;
    }
  }
  const incident = ctx.incidents.activeFor(s.instance, t);
  if (incident) {
    const v = incident.valueAt(t);
    if (incident.metric === 'memory') g.memory = v;
    else if (s.dataSizeBytes > 0) g.dataDisk = v;
    else g.rootDisk = v;
  }
  g.cpu = clamp(g.cpu, 0, 100);
  g.iowait = clamp(g.iowait, 0, 100 - g.cpu);
  g.memory = clamp(g.memory, 0, 100);
  g.rootDisk = clamp(g.rootDisk, 0, 100);
  g.dataDisk = s.dataSizeBytes > 0 ? clamp(g.dataDisk, 0, 100) : 0;
  g.load = Math.max(0, g.load);
  return g;
}
