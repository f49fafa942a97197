/**
 * Live calibration: forecasts are kept until their horizon has passed, then compared with
 * what happened. Publishes, per metric and horizon, the share of actuals inside the p10–p90
 * band and the mean pinball loss. Tracks at most `maxSeries` series to bound memory.
 */
import type { MetricName } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import type { ForecastResult } from './forecaster';
import type { HorizonSpec } from './horizons';

/** Running means over about this many recent comparisons. */
const WINDOW = 2000;

interface Pending {
  readonly instance: string;
  readonly metric: MetricName;
  readonly horizon: string;
  readonly q: Float32Array;
}

export class Calibration {
  private readonly pending = new Map<number, Pending[]>();
  private readonly tracked = new Set<string>();
  private readonly stats = new Map<string, { coverage: number; pinball: number; n: number }>();

  constructor(
    private readonly horizons: readonly HorizonSpec[],
    private readonly quantiles: readonly number[],
    private readonly step: number,
    private readonly maxSeries: number,
  ) {}

  /**
   * Takes over what `previous` has measured and is still waiting for (a reload with the same
   * horizons, quantiles and step): the published calibration does not restart from nothing.
   * Tracked series beyond this instance's limit are dropped.
   */
  adopt(previous: Calibration): void {
    for (const [key, s] of previous.stats) this.stats.set(key, { ...s });
    for (const key of previous.tracked) {
      if (this.tracked.size >= this.maxSeries) break;
      this.tracked.add(key);
    }
    for (const [target, list] of previous.pending) {
      const kept = list.filter((p) => this.tracked.has(`${p.instance}|${p.metric}`));
      if (kept.length > 0) this.pending.set(target, kept);
    }
  }

  /** Remembers this cycle's forecasts (of tracked series) until their target times. */
  record(result: ForecastResult): void {
    const nq = this.quantiles.length;
    for (const inst of result.instances) {
      for (const [metric, f] of Object.entries(inst.forecasts) as Array<[MetricName, { quantiles: Float32Array }]>) {
        const key = `${inst.instance}|${metric}`;
        if (!this.tracked.has(key)) {
          if (this.tracked.size >= this.maxSeries) continue;
          this.tracked.add(key);
        }
        for (const h of this.horizons) {
          const target = result.origin + (h.index + 1) * this.step;
          const list = this.pending.get(target) ?? [];
          list.push({ instance: inst.instance, metric, horizon: h.label, q: f.quantiles.slice(h.index * nq, (h.index + 1) * nq) });
          this.pending.set(target, list);
        }
      }
    }
  }

  /** Compares every pending forecast whose target time is inside the window with the actual value. */
  observe(window: HistoryWindow): void {
    const start = window.end - (window.length - 1) * window.step;
    const lo = this.quantiles.indexOf(0.1);
    const hi = this.quantiles.indexOf(0.9);
    for (const [target, list] of this.pending) {
      if (target > window.end) continue;
      this.pending.delete(target);
      if (target < start) continue;
      const i = Math.round((target - start) / window.step);
      for (const p of list) {
        const y = window.instances.get(p.instance)?.[p.metric]?.[i];
        if (y === undefined || !Number.isFinite(y)) continue;
        let pin = 0;
        this.quantiles.forEach((tau, k) => {
          const d = y - p.q[k]!;
          pin += Math.max(tau * d, (tau - 1) * d);
        });
        pin /= this.quantiles.length;
        const covered = lo >= 0 && hi >= 0 && y >= p.q[lo]! && y <= p.q[hi]! ? 1 : 0;
        const key = `${p.metric}|${p.horizon}`;
        const s = this.stats.get(key) ?? { coverage: 0, pinball: 0, n: 0 };
        s.n = Math.min(s.n + 1, WINDOW);
        s.coverage += (covered - s.coverage) / s.n;
        s.pinball += (pin - s.pinball) / s.n;
        this.stats.set(key, s);
      }
    }
  }

  snapshot(): Array<{ metric: MetricName; horizon: string; coverage: number; pinball: number }> {
    return [...this.stats].map(([key, s]) => {
      const [metric, horizon] = key.split('|') as [MetricName, string];
      return { metric, horizon, coverage: s.coverage, pinball: s.pinball };
    });
  }
}
