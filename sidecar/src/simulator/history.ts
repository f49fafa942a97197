/**
 * History generation: a simulation's past written as OpenMetrics (input for
 * `promtool tsdb create-blocks-from openmetrics`) or as long-format CSV training data.
 */
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { METRIC_NAMES } from '../profiles/profiles';
import type { Incident } from './incidents';
import type { Simulation } from './simulation';
import { IncidentError, drawIncidentSlots } from './incidents';
import { advanceCounters, escapeLabelValue, familyHeaders, initialCounters, renderTimestampedSamples } from './node-exporter';
import { metricsFromGauges, renderSimulatorMetrics, simulatorHeaders } from './simulation';

export type HistoryFormat = 'openmetrics' | 'csv';

export interface HistoryOptions {
  /** Unix seconds, inclusive. */
  readonly start: number;
  /** Unix seconds, exclusive. */
  readonly end: number;
  /** Seconds between written samples (OpenMetrics) or rows (CSV). */
  readonly step: number;
  readonly format: HistoryFormat;
  /**
   * OpenMetrics: a `job` label on every sample, as Prometheus adds when it scrapes the live
   * simulator, so the live series continue the backfilled ones instead of starting new ones.
   */
  readonly job?: string;
  /** Called with the fraction done, at most every 1 %. */
  readonly onProgress?: (fraction: number) => void;
}

/** Counters are integrated at least this finely, so rates over a CSV row's step are exact. */
const MAX_INNER_STEP = 60;
const FLUSH_BYTES = 1 << 20;

export const CSV_HEADER = 'timestamp,host,profile,metric,value\n';

/**
 * Writes the history to `out` (it is not ended). CSV values of cpu, iowait and network are
 * averages over the row's step computed from the counters, as `rate()` would see them;
 * memory, disk and load are the instant's gauges.
 */
export async function writeHistory(sim: Simulation, opts: HistoryOptions, out: Writable): Promise<{ samples: number }> {
  const { start, end, step, format } = opts;
  if (!(step > 0) || !Number.isFinite(step)) throw new RangeError(`step must be > 0 seconds (got ${step})`);
  if (!(end > start)) throw new RangeError(`history end ${end} must be after start ${start}`);
  const inner = step <= MAX_INNER_STEP ? step : step / Math.ceil(step / MAX_INNER_STEP);
  const perStep = Math.round(step / inner);
  const counters = sim.servers.map((s) => initialCounters(sim.seed, s));
  const jobLabel = opts.job === undefined ? undefined : `job="${escapeLabelValue(opts.job)}",`;
  // every sample line has labels ({instance=…}): the job goes first
  const withJob = (lines: string): string => (jobLabel === undefined ? lines : lines.replace(/^([^{\s#]+)\{/gm, `$1{${jobLabel}`));
  // counter readings at the previous written row, for CSV rates
  const prevCpu = counters.map((c) => Float64Array.from(c.cpuSeconds));
  const prevNet = counters.map((c) => c.rxBytes + c.txBytes);
  let buf = format === 'openmetrics' ? familyHeaders('openmetrics') + simulatorHeaders() : CSV_HEADER;
  let samples = 0;
  const flush = async (): Promise<void> => {
    if (buf === '') return;
    const ok = out.write(buf);
    buf = '';
    if (!ok) await once(out, 'drain');
  };
  const totalSteps = Math.ceil((end - start) / step);
  let lastReported = -1;
  for (let k = 0; k < totalSteps; k++) {
    const t = start + k * step;
    for (let i = 0; i < sim.servers.length; i++) {
      const s = sim.servers[i]!;
      const c = counters[i]!;
      // integrate the counters up to t
      if (k > 0) for (let j = perStep - 1; j >= 0; j--) advanceCounters(c, sim.gauges(s, t - j * inner), inner);
      const g = sim.gauges(s, t);
      if (format === 'openmetrics') {
        buf += withJob(renderTimestampedSamples({ server: s, gauges: g, counters: c }, t));
        samples++;
      } else if (k > 0) {
        const m = metricsFromGauges(g);
        const cpuNow = c.cpuSeconds;
        const prev = prevCpu[i]!;
        // idle(0) + iowait(1) + steal(5) are not busy; see source/promql.ts
        const notBusy = cpuNow[0]! - prev[0]! + (cpuNow[1]! - prev[1]!) + (cpuNow[5]! - prev[5]!);
        m.cpu = clampPct(100 * (1 - notBusy / step));
        m.iowait = clampPct((100 * (cpuNow[1]! - prev[1]!)) / step);
        const net = c.rxBytes + c.txBytes;
        m.network = (net - prevNet[i]!) / step;
        prev.set(cpuNow);
        prevNet[i] = net;
        for (const name of METRIC_NAMES) {
          const v = m[name];
          buf += `${t},${s.instance},${s.profile},${name},${name === 'network' ? Math.round(v) : v.toFixed(3)}\n`;
        }
        samples++;
      }
      if (buf.length > FLUSH_BYTES) await flush();
    }
    if (format === 'openmetrics') buf += withJob(renderSimulatorMetrics(sim, t, t));
    const pct = Math.floor(((k + 1) / totalSteps) * 100);
    if (opts.onProgress && pct !== lastReported) {
      lastReported = pct;
      opts.onProgress(pct / 100);
    }
  }
  if (format === 'openmetrics') buf += '# EOF\n';
  await flush();
  return { samples };
}

function clampPct(v: number): number {
  return v < 0 ? 0 : v > 100 ? 100 : v;
}

/**
 * Injects `count` incidents into [from, to), deterministic for the simulation's seed. A draw
 * that cannot be used (overlap with another incident on the server, metric already near its
 * threshold) is skipped and the next one tried, up to 20 × count draws.
 */
export function scheduleIncidents(sim: Simulation, count: number, from: number, to: number): Incident[] {
  const placed: Incident[] = [];
  const slots = drawIncidentSlots(sim.seed, sim.servers, count * 20, from, to);
  for (const slot of slots) {
    if (placed.length >= count) break;
    try {
      placed.push(sim.injectIncident({ instance: slot.server.instance, onset: slot.onset, rampSeconds: slot.rampSeconds }));
    } catch (e) {
      if (!(e instanceof IncidentError)) throw e;
    }
  }
  return placed;
}
