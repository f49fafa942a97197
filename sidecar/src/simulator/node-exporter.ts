/**
 * node_exporter's own metric names and labels for simulated servers, so the same PromQL works
 * on the simulator and on real node_exporter. Pure: (server, gauges, counters) → samples.
 *
 * Counters really are counters: they start at a plausible uptime's worth and only grow, by
 * the gauges' rates integrated over time.
 */
import type { SimServer } from './fleet';
import type { Gauges } from './behaviour';
import { uniform } from './random';
import { escapeLabelValue } from '@foresight/contract';

export const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const;
const MODE_IDLE = 0;
const MODE_IOWAIT = 1;
const MODE_IRQ = 2;
const MODE_NICE = 3;
const MODE_SOFTIRQ = 4;
const MODE_STEAL = 5;
const MODE_SYSTEM = 6;
const MODE_USER = 7;

/** The counters of one server: seconds per CPU mode (the same on every core) and NIC bytes. */
export interface NodeCounters {
  /** Seconds per mode for one core, in CPU_MODES order. */
  readonly cpuSeconds: Float64Array;
  rxBytes: number;
  txBytes: number;
  loRxBytes: number;
}

/** Fresh counters for a server that has been up a plausible while (5–35 days). */
export function initialCounters(seed: number, s: SimServer): NodeCounters {
  const uptime = (5 + 30 * uniform(seed, s.index, 910)) * 86400;
  const cpuSeconds = new Float64Array(CPU_MODES.length);
  const typical = modeFractions(15, 2);
  for (let m = 0; m < CPU_MODES.length; m++) cpuSeconds[m] = uptime * typical[m]!;
  return { cpuSeconds, rxBytes: uptime * 6e6, txBytes: uptime * 4e6, loRxBytes: uptime * 2e4 };
}

/** Fraction of each core's time per mode for a busy % and an iowait %. Sums to 1. */
function modeFractions(cpuPct: number, iowaitPct: number): number[] {
  const busy = cpuPct / 100;
  const steal = 0.002 * (1 - busy);
  const iowait = Math.min(iowaitPct / 100, 1 - busy - steal);
  const f = new Array<number>(CPU_MODES.length).fill(0);
  f[MODE_USER] = 0.7 * busy;
  f[MODE_SYSTEM] = 0.22 * busy;
  f[MODE_NICE] = 0.01 * busy;
  f[MODE_IRQ] = 0.02 * busy;
  f[MODE_SOFTIRQ] = 0.05 * busy;
  f[MODE_STEAL] = steal;
  f[MODE_IOWAIT] = Math.max(0, iowait);
  f[MODE_IDLE] = Math.max(0, 1 - busy - steal - f[MODE_IOWAIT]);
  return f;
}

/** Adds `dt` seconds at the rates the gauges describe. */
export function advanceCounters(c: NodeCounters, g: Gauges, dt: number): void {
  if (!(dt > 0)) return;
  const f = modeFractions(g.cpu, g.iowait);
  for (let m = 0; m < CPU_MODES.length; m++) c.cpuSeconds[m]! += f[m]! * dt;
  c.rxBytes += g.rx * dt;
  c.txBytes += g.tx * dt;
  c.loRxBytes += 2e4 * dt;
}

type Labels = ReadonlyArray<readonly [string, string]>;

/** One metric family: name (as exposed), type, help, and how to read its samples off a server. */
interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly samples: (s: SimServer, g: Gauges, c: NodeCounters) => Array<readonly [Labels, number]>;
}

function filesystems(s: SimServer, g: Gauges): Array<{ labels: Labels; size: number; usedPct: number; reserved: number }> {
  const fs = [
    {
      labels: [
        ['device', '/dev/sda1'],
        ['fstype', 'ext4'],
        ['mountpoint', '/'],
      ] as Labels,
      size: s.rootSizeBytes,
      usedPct: g.rootDisk,
      reserved: 0.05, // ext4 reserves 5 % for root: free > avail
    },
    {
      // a tmpfs that is nearly full by design; the disk expression must ignore it
      labels: [
        ['device', 'tmpfs'],
        ['fstype', 'tmpfs'],
        ['mountpoint', '/run'],
      ] as Labels,
      size: 1.6e9,
      usedPct: 97,
      reserved: 0,
    },
  ];
  if (s.dataSizeBytes > 0) {
    fs.push({
      labels: [
        ['device', '/dev/sdb1'],
        ['fstype', 'xfs'],
        ['mountpoint', '/data'],
      ] as Labels,
      size: s.dataSizeBytes,
      usedPct: g.dataDisk,
      reserved: 0,
    });
  }
  return fs;
}

function availBytes(size: number, usedPct: number, reserved: number): number {
  return Math.round(Math.max(0, size * (1 - reserved) * (1 - usedPct / 100)));
}

const FAMILIES: readonly Family[] = [
  {
    name: 'node_cpu_seconds_total',
    type: 'counter',
    help: 'Seconds the CPUs spent in each mode.',
    samples: (s, _g, c) => {
      const out: Array<readonly [Labels, number]> = [];
      for (let cpu = 0; cpu < s.cpus; cpu++) {
        for (let m = 0; m < CPU_MODES.length; m++) {
          out.push([
            [
              ['cpu', String(cpu)],
              ['mode', CPU_MODES[m]!],
            ],
            round3(c.cpuSeconds[m]!),
          ]);
        }
      }
      return out;
    },
  },
  {
    name: 'node_filesystem_avail_bytes',
    type: 'gauge',
    help: 'Filesystem space available to non-root users in bytes.',
    samples: (s, g) => filesystems(s, g).map((f) => [f.labels, availBytes(f.size, f.usedPct, f.reserved)] as const),
  },
  {
    name: 'node_filesystem_free_bytes',
    type: 'gauge',
    help: 'Filesystem free space in bytes.',
    samples: (s, g) => filesystems(s, g).map((f) => [f.labels, availBytes(f.size, f.usedPct, f.reserved) + Math.round(f.size * f.reserved)] as const),
  },
  {
    name: 'node_filesystem_size_bytes',
    type: 'gauge',
    help: 'Filesystem size in bytes.',
    samples: (s, g) => filesystems(s, g).map((f) => [f.labels, f.size] as const),
  },
  { name: 'node_load1', type: 'gauge', help: '1m load average.', samples: (s, g) => [[[], round3(g.load * s.cpus)]] },
  { name: 'node_load15', type: 'gauge', help: '15m load average.', samples: (s, g) => [[[], round3(g.load * s.cpus * 0.9)]] },
  { name: 'node_load5', type: 'gauge', help: '5m load average.', samples: (s, g) => [[[], round3(g.load * s.cpus * 0.95)]] },
  {
    name: 'node_memory_Cached_bytes',
    type: 'gauge',
    help: 'Memory information field Cached_bytes.',
    // databases hold their buffers in shared memory: cached, but not available
    samples: (s, g) => [[[], Math.round(s.memTotalBytes * (s.profile === 'database' ? 0.85 : 0.4 * (1 - g.memory / 100)))]],
  },
  {
    name: 'node_memory_MemAvailable_bytes',
    type: 'gauge',
    help: 'Memory information field MemAvailable_bytes.',
    samples: (s, g) => [[[], Math.round(s.memTotalBytes * (1 - g.memory / 100))]],
  },
  {
    name: 'node_memory_MemFree_bytes',
    type: 'gauge',
    help: 'Memory information field MemFree_bytes.',
    samples: (s, g) => [[[], Math.round(s.memTotalBytes * (1 - g.memory / 100) * 0.5)]],
  },
  {
    name: 'node_memory_MemTotal_bytes',
    type: 'gauge',
    help: 'Memory information field MemTotal_bytes.',
    samples: (s) => [[[], s.memTotalBytes]],
  },
  {
    name: 'node_network_receive_bytes_total',
    type: 'counter',
    help: 'Network device statistic receive_bytes.',
    samples: (_s, _g, c) => [
      [[['device', 'eth0']], Math.round(c.rxBytes)],
      [[['device', 'lo']], Math.round(c.loRxBytes)],
    ],
  },
  {
    name: 'node_network_transmit_bytes_total',
    type: 'counter',
    help: 'Network device statistic transmit_bytes.',
    samples: (_s, _g, c) => [
      [[['device', 'eth0']], Math.round(c.txBytes)],
      [[['device', 'lo']], Math.round(c.loRxBytes)],
    ],
  },
];

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export { escapeLabelValue } from '@foresight/contract';

function labelText(instance: string, labels: Labels): string {
  let out = `instance="${escapeLabelValue(instance)}"`;
  for (const [k, v] of labels) out += `,${k}="${escapeLabelValue(v)}"`;
  return out;
}

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** `# HELP`/`# TYPE` lines of every node family. OpenMetrics names counters without `_total`. */
export function familyHeaders(format: ExpositionFormat): string {
  let out = '';
  for (const f of FAMILIES) {
    const name = format === 'openmetrics' && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n`;
  }
  return out;
}

export interface ServerSample {
  readonly server: SimServer;
  readonly gauges: Gauges;
  readonly counters: NodeCounters;
}

/** Prometheus text exposition of many servers, family by family (each family's lines together). */
export function renderNodeMetrics(samples: readonly ServerSample[]): string {
  const parts: string[] = [];
  for (const f of FAMILIES) {
    parts.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
    for (const { server, gauges, counters } of samples) {
      for (const [labels, value] of f.samples(server, gauges, counters)) {
        parts.push(`${f.name}{${labelText(server.instance, labels)}} ${value}\n`);
      }
    }
  }
  return parts.join('');
}

/** Sample lines of one server at one instant with a timestamp in seconds (OpenMetrics history). */
export function renderTimestampedSamples(sample: ServerSample, timestampSeconds: number): string {
  const { server, gauges, counters } = sample;
  let out = '';
  for (const f of FAMILIES) {
    for (const [labels, value] of f.samples(server, gauges, counters)) {
      out += `${f.name}{${labelText(server.instance, labels)}} ${value} ${timestampSeconds}\n`;
    }
  }
  return out;
}
