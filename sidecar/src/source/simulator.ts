/**
 * The embedded simulator as a history source: the same values the default PromQL would give
 * for the simulated fleet (CPU, I/O wait and network averaged over the 5 minutes before each
 * instant, as `rate(...[5m])` does; memory, disk and load at the instant), without a Prometheus
 * in between. Like PromQL at any step, a point depends on its instant only, never on the step of
 * the read: an hourly read gives, on the hour, what the 5-minute read gives there (the values a
 * model trained on 5-minute history samples on the hour).
 */
import type { MetricName } from '../profiles/profiles';
import type { SimServer } from '../simulator/fleet';
import type { Simulation } from '../simulator/simulation';
import { metricsFromGauges } from '../simulator/simulation';
import type { HistorySource, HistoryWindow, SeriesValues } from './source';
import { loopPauser } from '../pause';

/** Rates are averaged over RATE_SECONDS at this resolution (seconds). */
const INNER = 60;
/** The rate window of the default expressions (RATE_WINDOW, 5m). */
const RATE_SECONDS = 300;
/** Servers per block of window buffers (each block is allocated, filled and copied between pauses of the event loop). */
const BLOCK = 512;

/** The last window read at one step, kept so the next read at that step copies the instants it shares. */
interface LastRead {
  readonly window: HistoryWindow;
  /** Its first instant (unix seconds). */
  readonly start: number;
  /** Instants from here on are read afresh: a scenario switch or an incident changed them. */
  validBefore: number;
}

export class SimulatorSource implements HistorySource {
  readonly description: string;
  /**
   * Per read step, the window the latest read at that step returned. Reads move forward a step
   * at a time, so the next read copies every instant but the newest from it instead of
   * simulating them again. The window is the one handed to the cycle (which publishes it as the
   * API's history): the source keeps no second copy of the values, only a reference.
   */
  private readonly last = new Map<number, LastRead>();
  /** The servers this source reads (its shard), in simulation order. */
  private readonly mine: readonly SimServer[];

  constructor(
    readonly sim: Simulation,
    /** Unix seconds; no data before this (the fleet's "history" starts here). */
    private readonly historyStart: number,
    accept?: (instance: string) => boolean,
  ) {
    this.description = `simulator (${sim.servers.length} servers)`;
    this.mine = sim.servers.filter((s) => !accept || accept(s.instance));
    // a scenario switch or an incident changes the values from its instant on; what was read
    // from an hour before it is read afresh (the hour is a margin over the 5-minute rate window)
    sim.onChange((at) => {
      for (const l of this.last.values()) l.validBefore = Math.min(l.validBefore, at - 3600);
    });
  }

  /** Distinct instants whose fleet values the source holds for reuse (what its memory scales with). */
  get cachedInstants(): number {
    const instants = new Set<number>();
    for (const [step, l] of this.last) for (let k = 0; k < l.window.length; k++) instants.add(l.start + k * step);
    return instants.size;
  }

  /** The six metrics of server `s` at instant `t`, written at `o` of each buffer (NaN before the history starts). */
  private simulate(s: SimServer, t: number, buffers: readonly SeriesValues[], o: number): void {
    if (t < this.historyStart) {
      for (let j = 0; j < 6; j++) buffers[j]![o] = NaN;
      return;
    }
    const inner = RATE_SECONDS / INNER;
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
    buffers[0]![o] = cpu / inner;
    buffers[1]![o] = now.memory;
    buffers[2]![o] = now.disk;
    buffers[3]![o] = iowait / inner;
    buffers[4]![o] = now.load;
    buffers[5]![o] = net / inner;
  }

  async fetch(end: number, length: number, step: number): Promise<HistoryWindow> {
    const names: MetricName[] = ['cpu', 'memory', 'disk', 'iowait', 'load', 'network'];
    const instances = new Map<string, Partial<Record<MetricName, SeriesValues>>>();
    // large simulated fleets: the event loop is given back every few ms so the HTTP API keeps answering
    const pause = loopPauser();
    // one buffer per metric for each block of BLOCK servers, each server's window a view into it:
    // tens of thousands of small typed arrays per cycle cost more in allocation and GC than the
    // copy, and one buffer for the whole fleet (170 MB at 10,000 servers) is allocated and zeroed
    // in one go, holding the event loop
    const mine = this.mine;
    const start = end - (length - 1) * step;
    // the instants the last read at this step holds (and that no change has touched since): copied, k in [from, to)
    const prev = this.last.get(step);
    let from = 0;
    let to = 0;
    let shift = 0;
    if (prev && (start - prev.start) % step === 0) {
      shift = (start - prev.start) / step;
      from = Math.max(0, -shift);
      to = Math.min(length, prev.window.length - shift, Math.ceil((prev.validBefore - start) / step));
    }
    if (to <= from) from = to = 0;
    for (let b = 0; b < mine.length; b += BLOCK) {
      await pause();
      const n = Math.min(BLOCK, mine.length - b);
      const buffers = names.map(() => new Float32Array(n * length));
      for (let i = 0; i < n; i++) {
        if (i % 32 === 0) await pause();
        const o = i * length;
        const views = Object.fromEntries(names.map((m, j) => [m, buffers[j]!.subarray(o, o + length)])) as Record<MetricName, SeriesValues>;
        instances.set(mine[b + i]!.instance, views);
        if (to > from) {
          const was = prev!.window.instances.get(mine[b + i]!.instance)!;
          for (let j = 0; j < 6; j++) views[names[j]!].set(was[names[j]!]!.subarray(from + shift, to + shift), from);
        }
      }
      for (let k = 0; k < length; k++) {
        if (k >= from && k < to) continue;
        const t = start + k * step;
        for (let i = 0; i < n; i++) {
          if (i % 256 === 0) await pause();
          this.simulate(mine[b + i]!, t, buffers, i * length + k);
        }
      }
    }
    // the simulated servers carry their profile as a label, as a scrape config's target label would
    const profiles = new Map(mine.map((s) => [s.instance, s.profile] as const));
    const window: HistoryWindow = { end, step, length, instances, profiles, dropped: {}, failed: [] };
    this.last.set(step, { window, start, validBefore: Infinity });
    return window;
  }
}
