/**
 * Default PromQL expressions for the six metrics Foresight forecasts (README
 * "Default metrics"). Each returns exactly one series per `instance` and nothing
 * else, so the sidecar can align them by that label alone. All are overridable in config.
 *
 * They use node_exporter's own metric names, so the same text works on real node_exporter
 * and on the fleet simulator (which exposes those names).
 */
import type { MetricName } from '../profiles/profiles';

/** A default metric: its expression, its unit, and why it is written the way it is. */
export interface MetricDefinition {
  readonly name: MetricName;
  readonly expr: string;
  readonly unit: 'percent' | 'ratio' | 'bytes_per_second';
  readonly description: string;
}

/**
 * Filesystems that are not real disks: in-memory, container layers, images, pseudo and
 * FUSE mounts. They fill up by design or cannot fill at all.
 */
export const PSEUDO_FSTYPES = 'tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|fuse.*|iso9660|autofs|proc|sysfs';
/** Virtual interfaces whose traffic is already counted on a physical one (or never leaves the host). */
export const VIRTUAL_NICS = 'lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*|cali.*|tun.*';

/** Rate window: 5m matches the model's 5-minute step and holds ≥ 2 samples at any scrape interval ≤ 2m30s. */
export const RATE_WINDOW = '5m';

export const METRICS: Readonly<Record<MetricName, MetricDefinition>> = {
  cpu: {
    name: 'cpu',
    unit: 'percent',
    // idle, iowait and steal are time the CPU did no work for this host: iowait is reported
    // on its own (below) and steal is the hypervisor's. Dividing by the count of idle series
    // averages over cores, so 100 means every core busy.
    expr:
      `100 * (1 - sum by (instance) (rate(node_cpu_seconds_total{mode=~"idle|iowait|steal"}[${RATE_WINDOW}]))` +
      ` / count by (instance) (node_cpu_seconds_total{mode="idle"}))`,
    description: 'CPU busy, % of all cores (excludes idle, iowait and steal)',
  },
  memory: {
    name: 'memory',
    unit: 'percent',
    // MemAvailable (kernel ≥ 3.14) counts reclaimable page cache as available, so a database
    // whose RAM is "full" of cache is not reported as out of memory. max by (instance) drops
    // job and other target labels so every expression shares the `instance` key.
    expr: '100 * (1 - max by (instance) (node_memory_MemAvailable_bytes)' + ' / max by (instance) (node_memory_MemTotal_bytes))',
    description: 'Memory used, % of MemTotal (from MemAvailable)',
  },
  disk: {
    name: 'disk',
    unit: 'percent',
    // The fullest real filesystem is the one that will stop the host; pseudo filesystems fill
    // by design. avail (not free) is what unprivileged writers can still use.
    expr:
      `100 * max by (instance) (1 - node_filesystem_avail_bytes{fstype!~"${PSEUDO_FSTYPES}"}` + ` / node_filesystem_size_bytes{fstype!~"${PSEUDO_FSTYPES}"})`,
    description: 'Disk used, % of the fullest real filesystem',
  },
  iowait: {
    name: 'iowait',
    unit: 'percent',
    expr: `100 * avg by (instance) (rate(node_cpu_seconds_total{mode="iowait"}[${RATE_WINDOW}]))`,
    description: 'CPU time waiting for I/O, % of all cores',
  },
  load: {
    name: 'load',
    unit: 'ratio',
    // load1 per core: 1.0 means the run queue matches the cores, whatever the host's size.
    expr: 'max by (instance) (node_load1)' + ' / count by (instance) (node_cpu_seconds_total{mode="idle"})',
    description: '1-minute load average per core',
  },
  network: {
    name: 'network',
    unit: 'bytes_per_second',
    expr:
      `sum by (instance) (rate(node_network_receive_bytes_total{device!~"${VIRTUAL_NICS}"}[${RATE_WINDOW}]))` +
      ` + sum by (instance) (rate(node_network_transmit_bytes_total{device!~"${VIRTUAL_NICS}"}[${RATE_WINDOW}]))`,
    description: 'Network traffic in + out on physical interfaces, bytes/s',
  },
};
