/**
 * The embedded simulator as a history source: the same values the default PromQL would give
 * for the simulated fleet (CPU, I/O wait and network averaged over the 5 minutes before each
 * instant, as `rate(...[5m])` does; memory, disk and load at the instant), without a Prometheus
 * in between. Like PromQL at any step, a point depends on its instant only, never on the step of
 * the read: an hourly read gives, on the hour, what the 5-minute read gives there (the values a
 * model trained on 5-minute history samples on the hour).
 */
import type { MetricName } from '../profiles/profiles';
import type { Simulation } from '../simulator/simulation';
import { metricsFromGauges } from '../simulator/simulation';
import type { HistorySource, HistoryWindow } from './source';

/** Rates are averaged over RATE_SECONDS at this resolution (seconds). */
const INNER = 60;
/** The rate window of the default expressions (RATE_WINDOW, 5m). */
const RATE_SECONDS = 300;

export class SimulatorSource implements HistorySource {
  readonly description: string;
  /** Per grid timestamp: the fleet's six metrics, [server × 6]. */
  private readonly cache = new Map<number, Float64Array>();
  /** Per read step, the first instant of the latest read at that step: what the next reads can reuse. */
  private readonly lastReadStart = new Map<number, number>();

  constructor(
    readonly sim: Simulation,
    /** Unix seconds; no data before this (the fleet's "history" starts here). */
    private readonly historyStart: number,
    private readonly accept?: (instance: string) => boolean,
  ) {
    this.description = `simulator (${sim.servers.length} servers)`;
    // a scenario switch or an incident changes the values from its instant on; what was cached
    // from an hour before it is read afresh (the hour is a margin over the 5-minute rate window)
    sim.onChange((at) => this.invalidateFrom(at - 3600));
  }

  /** Instants whose fleet values are cached (what the memory held by the cache scales with). */
  get cachedInstants(): number {
    return this.cache.size;
  }

  /** Forgets cached values from `t` on. */
  private invalidateFrom(t: number): void {
    for (const k of this.cache.keys()) if (k >= t) this.cache.delete(k);
  }

  /** The fleet at one instant; `pause` gives the event loop back now and then (large fleets). */
  private async valuesAt(t: number, pause: () => Promise<void>): Promise<Float64Array> {
    const hit = this.cache.get(t);
    if (hit) return hit;
    const n = this.sim.servers.length;
    const out = new Float64Array(n * 6).fill(NaN);
    if (t >= this.historyStart) {
      const inner = RATE_SECONDS / INNER;
      for (let i = 0; i < n; i++) {
        if (i % 256 === 0) await pause();
        const s = this.sim.servers[i]!;
        const now = metricsFromGauges(this.sim.gauges(s, t));
        let cpu = 0;
        let iowait = 0;
        let net = 0;
        for (let j = 0; j < inner; j++) {
          const g = this.sim.gauges(s, t - j * INNER);
          cpu += g.cpu;
          iowait += g.iowait;
          net += g.rx + g.tx;
        }
        const o = i * 6;
        out[o] = cpu / inner;
        out[o + 1] = now.memory;
        out[o + 2] = now.disk;
        out[o + 3] = iowait / inner;
        out[o + 4] = now.load;
        out[o + 5] = net / inner;
      }
    }
    this.cache.set(t, out);
    if (this.cache.size > 5000) {
      // keep memory bounded: drop the oldest entries
      const keys = [...this.cache.keys()].sort((a, b) => a - b);
      for (const k of keys.slice(0, this.cache.size - 4000)) this.cache.delete(k);
    }
    return out;
  }

  /**
   * Drops cached instants no later read can reuse: those before the latest read at each step,
   * or off its grid. Reads move forward a step at a time, so the cache holds about one window
   * per read step (a large fleet's window is 8 bytes × 6 metrics × servers per instant: 10,000
   * servers' 288 instants are 138 MB), instead of growing with every cycle.
   */
  private forgetUnused(step: number, start: number): void {
    this.lastReadStart.set(step, start);
    for (const k of this.cache.keys()) {
      let reused = false;
      for (const [s, from] of this.lastReadStart) if (k >= from && (k - from) % s === 0) reused = true;
      if (!reused) this.cache.delete(k);
    }
  }

  async fetch(end: number, length: number, step: number): Promise<HistoryWindow> {
    const names: MetricName[] = ['cpu', 'memory', 'disk', 'iowait', 'load', 'network'];
    const instances = new Map<string, Partial<Record<MetricName, Float64Array>>>();
    let t0 = performance.now();
    const pause = async (): Promise<void> => {
      if (performance.now() - t0 > 10) {
        // large simulated fleets: give the event loop back so the HTTP API keeps answering
        await new Promise((r) => setImmediate(r));
        t0 = performance.now();
      }
    };
    // one buffer per metric for the whole fleet, each server's window a view into it: tens of
    // thousands of small typed arrays per cycle cost more in allocation and GC than the copy
    const mine = this.sim.servers.filter((s) => !this.accept || this.accept(s.instance));
    const buffers = names.map(() => new Float64Array(mine.length * length));
    const slot = new Map(mine.map((s, i) => [s.instance, i]));
    // per simulated server, where its window starts in the buffers (-1: another shard's)
    const base = Int32Array.from(this.sim.servers, (s) => (slot.has(s.instance) ? slot.get(s.instance)! * length : -1));
    for (const s of mine) {
      const o = slot.get(s.instance)! * length;
      instances.set(s.instance, Object.fromEntries(names.map((m, j) => [m, buffers[j]!.subarray(o, o + length)])));
    }
    for (let k = 0; k < length; k++) {
      await pause();
      const v = await this.valuesAt(end - (length - 1 - k) * step, pause);
      for (let i = 0; i < base.length; i++) {
        const o = base[i]!;
        if (o < 0) continue;
        for (let j = 0; j < 6; j++) buffers[j]![o + k] = v[i * 6 + j]!;
      }
    }
    this.forgetUnused(step, end - (length - 1) * step);
    // the simulated servers carry their profile as a label, as a scrape config's target label would
    const profiles = new Map(this.sim.servers.filter((s) => instances.has(s.instance)).map((s) => [s.instance, s.profile] as const));
    return { end, step, length, instances, profiles, dropped: {}, failed: [] };
  }
}
