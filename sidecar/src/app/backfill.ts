/**
 * Past risk from history already read: when an instance is first seen (at start, or when it
 * joins), the window the cycle just read holds a day of its metrics, so the preview's past
 * columns need not start empty. Each past step is scored by the risk engine on the values up to
 * it, on state alone: no forecast was made back then, and none is invented now. Steps where the
 * instance has no data at all get no score (missing is not healthy).
 */
import type { ProfileName, ProfileThresholds } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import type { HistoryWindow, SeriesValues } from '../source/source';
import type { InstanceForecast } from '../forecast/forecaster';
import { assessFleet } from '../risk/assess';

/** Values kept before each past step: more than the engine's hour of trend needs. */
const CONTEXT_STEPS = 20;

/** Instances scored between two returns to the event loop. */
const SLICE = 250;

/**
 * Scores of the `steps` grid times before the window's end (oldest first), per instance, as
 * [unix seconds, score rounded to 0.01]. Gives the event loop back every SLICE instances.
 */
export async function pastRisk(
  window: HistoryWindow,
  instances: readonly InstanceForecast[],
  thresholds: (profile: ProfileName) => ProfileThresholds,
  steps: number,
): Promise<Map<string, Array<[number, number]>>> {
  const out = new Map<string, Array<[number, number]>>(instances.map((i) => [i.instance, []]));
  const stateOnly = instances.map((i) => ({ ...i, forecasts: {} }));
  const first = Math.max(0, window.length - 1 - steps);
  for (let k = first; k < window.length - 1; k++) {
    const t = window.end - (window.length - 1 - k) * window.step;
    // a slice of the fleet at a time, the event loop given back in between: a step over
    // 10,000 instances in one go would hold /metrics for hundreds of milliseconds
    for (let from = 0; from < stateOnly.length; from += SLICE) {
      const upTo = new Map<string, Partial<Record<(typeof METRIC_NAMES)[number], SeriesValues>>>();
      const scored: InstanceForecast[] = [];
      for (const inst of stateOnly.slice(from, from + SLICE)) {
        const values = window.instances.get(inst.instance) ?? {};
        const cut: Partial<Record<(typeof METRIC_NAMES)[number], SeriesValues>> = {};
        let seen = false;
        for (const m of METRIC_NAMES) {
          const v = values[m];
          if (!v || v.length !== window.length) continue;
          cut[m] = v.subarray(Math.max(0, k + 1 - CONTEXT_STEPS), k + 1);
          if (Number.isFinite(v[k]!)) seen = true;
        }
        if (!seen) continue;
        upTo.set(inst.instance, cut);
        scored.push(inst);
      }
      const view: HistoryWindow = { ...window, end: t, length: k + 1, instances: upTo };
      for (const [instance, r] of assessFleet(view, scored, thresholds, [], [], new Map())) {
        out.get(instance)!.push([t, Math.round(r.score * 100) / 100]);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  return out;
}
