/**
 * The recent risk scores per instance that /api/v1/fleet's `recent` carries (the preview page's
 * past heatmap columns): one score per cycle from fresh data, at most RECENT_CYCLES, with the
 * past before an instance was first seen, and the steps a slow cycle or an outage skipped,
 * scored from the history already read (backfill.ts).
 */
import type { ForecastSnapshot } from '../exporter/exposition';
import type { InstanceForecast } from '../forecast/forecaster';
import type { ProfileName, ProfileThresholds } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import { pastRisk } from './backfill';

/** Risk scores kept per instance (6 h of 5-minute cycles). */
export const RECENT_CYCLES = 72;

/** What a cycle's history must fill in: instances never scored, and where each gapped one's scores stop. */
export interface PastToFill {
  readonly fresh: readonly InstanceForecast[];
  /** Instances with skipped steps, and the time of the last score each has. */
  readonly gapped: readonly InstanceForecast[];
  readonly gapFrom: ReadonlyMap<string, number>;
}

export class RecentRisk {
  private readonly scores = new Map<string, Array<[number, number]>>();

  /** instance → [unix seconds, score] pairs, oldest first. */
  get byInstance(): ReadonlyMap<string, ReadonlyArray<[number, number]>> {
    return this.scores;
  }

  /**
   * What the history must fill in for a cycle at `origin` (call before record()): instances
   * seen for the first time (all of them at start), and those whose last score is more than a
   * step before `origin` (a cycle that outran the step, or a source outage).
   */
  pastToFill(instances: readonly InstanceForecast[], origin: number, step: number): PastToFill {
    const fresh = instances.filter((i) => !this.scores.has(i.instance));
    const gapFrom = new Map<string, number>();
    for (const i of instances) {
      const list = this.scores.get(i.instance);
      const last = list?.[list.length - 1]?.[0];
      if (last !== undefined && origin - last > step) gapFrom.set(i.instance, last);
    }
    return { fresh, gapped: instances.filter((i) => gapFrom.has(i.instance)), gapFrom };
  }

  /** Adds the snapshot's scores of fresh servers; a stale or unknown cycle leaves a gap, not a copy. Forgets servers no longer published. */
  record(s: ForecastSnapshot): void {
    for (const i of s.instances) {
      const r = s.risk.get(i.instance);
      const list = this.scores.get(i.instance) ?? [];
      if (r && s.states?.get(i.instance)?.state === 'fresh' && (list.length === 0 || list[list.length - 1]![0] < s.origin))
        list.push([s.origin, Math.round(r.score * 100) / 100]);
      if (list.length > RECENT_CYCLES) list.splice(0, list.length - RECENT_CYCLES);
      // a server never scored yet stays out, so its past is filled from history once it is
      if (list.length > 0) this.scores.set(i.instance, list);
    }
    this.forgetMissing(s);
  }

  /** Forgets the servers the snapshot no longer publishes. */
  forgetMissing(s: ForecastSnapshot): void {
    for (const instance of this.scores.keys()) if (!s.states?.has(instance)) this.scores.delete(instance);
  }

  /**
   * Scores the past `p` asks for from `window` (state only: no forecast was made back then) and
   * fills it in before, or between, the recorded scores. Seconds for 5,000 instances: run after
   * the cycle's forecasts are published.
   */
  async fill(p: PastToFill, window: HistoryWindow, thresholds: (profile: ProfileName) => ProfileThresholds, origin: number, step: number): Promise<void> {
    if (p.fresh.length > 0) {
      const past = await pastRisk(window, p.fresh, thresholds, RECENT_CYCLES - 1);
      for (const [instance, older] of past) {
        const list = this.scores.get(instance);
        if (list) list.unshift(...older.filter(([t]) => t < (list[0]?.[0] ?? Infinity)));
      }
    }
    if (p.gapFrom.size > 0) {
      const oldest = Math.min(...p.gapFrom.values());
      const steps = Math.min(RECENT_CYCLES - 1, Math.round((origin - oldest) / step) - 1);
      const past = await pastRisk(window, p.gapped, thresholds, steps);
      for (const [instance, missed] of past) {
        const list = this.scores.get(instance);
        const after = p.gapFrom.get(instance)!;
        const fill = missed.filter(([t]) => t > after && t < origin);
        if (!list || fill.length === 0) continue;
        const at = list.findIndex(([t]) => t > after);
        list.splice(at < 0 ? list.length : at, 0, ...fill);
        if (list.length > RECENT_CYCLES) list.splice(0, list.length - RECENT_CYCLES);
      }
    }
  }
}
