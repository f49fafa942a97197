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

/** [unix seconds, score] pairs, oldest first. */
type Pairs = Array<[number, number]>;

/**
 * One instance's scores packed as [t0, score0, t1, score1, …], oldest first: a tenth of the
 * memory of 72 two-element arrays, which at 10,000 instances is tens of MB.
 */
function pack(list: Pairs): Float64Array {
  const kept = list.slice(Math.max(0, list.length - RECENT_CYCLES));
  const out = new Float64Array(kept.length * 2);
  kept.forEach(([t, score], k) => {
    out[2 * k] = t;
    out[2 * k + 1] = score;
  });
  return out;
}

function unpack(a: Float64Array): Pairs {
  return Array.from({ length: a.length / 2 }, (_, k): [number, number] => [a[2 * k]!, a[2 * k + 1]!]);
}

export class RecentRisk {
  private readonly scores = new Map<string, Float64Array>();

  /** An instance's scores, [unix seconds, score] pairs, oldest first (empty when it has none). */
  of(instance: string): Pairs {
    const a = this.scores.get(instance);
    return a ? unpack(a) : [];
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
      const a = this.scores.get(i.instance);
      const last = a && a.length > 0 ? a[a.length - 2]! : undefined;
      if (last !== undefined && origin - last > step) gapFrom.set(i.instance, last);
    }
    return { fresh, gapped: instances.filter((i) => gapFrom.has(i.instance)), gapFrom };
  }

  /** Adds the snapshot's scores of fresh servers; a stale or unknown cycle leaves a gap, not a copy. Forgets servers no longer published. */
  record(s: ForecastSnapshot): void {
    for (const i of s.instances) {
      const r = s.risk.get(i.instance);
      const a = this.scores.get(i.instance);
      const n = a ? a.length / 2 : 0;
      if (r && s.states?.get(i.instance)?.state === 'fresh' && (n === 0 || a![a!.length - 2]! < s.origin)) {
        // appended, the oldest dropped beyond RECENT_CYCLES
        const keep = Math.min(n, RECENT_CYCLES - 1);
        const next = new Float64Array((keep + 1) * 2);
        if (a) next.set(a.subarray((n - keep) * 2));
        next[keep * 2] = s.origin;
        next[keep * 2 + 1] = Math.round(r.score * 100) / 100;
        this.scores.set(i.instance, next);
      }
      // a server never scored yet stays out, so its past is filled from history once it is
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
        const a = this.scores.get(instance);
        if (!a) continue;
        const list = unpack(a);
        list.unshift(...older.filter(([t]) => t < (list[0]?.[0] ?? Infinity)));
        this.scores.set(instance, pack(list));
      }
    }
    if (p.gapFrom.size > 0) {
      const oldest = Math.min(...p.gapFrom.values());
      const steps = Math.min(RECENT_CYCLES - 1, Math.round((origin - oldest) / step) - 1);
      const past = await pastRisk(window, p.gapped, thresholds, steps);
      for (const [instance, missed] of past) {
        const a = this.scores.get(instance);
        const after = p.gapFrom.get(instance)!;
        const fill = missed.filter(([t]) => t > after && t < origin);
        if (!a || fill.length === 0) continue;
        const list = unpack(a);
        const at = list.findIndex(([t]) => t > after);
        list.splice(at < 0 ? list.length : at, 0, ...fill);
        this.scores.set(instance, pack(list));
      }
    }
  }
}
