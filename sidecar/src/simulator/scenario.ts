/**
 * Fleet scenarios: what the whole fleet is going through, switchable at run time.
 *
 * - `healthy`: normal daily work; CPU and memory mostly 5–40 %, database memory high from page cache.
 * - `busy`: healthy plus the heavy work that is normal for some profiles: ml_compute training
 *   runs at ~100 % CPU. A good risk engine must not alarm on it.
 * - `degrading`: a quarter of the fleet ramps into heavy load over ~40 minutes.
 * - `critical`: half of the fleet is driven to 90–100 % on at least one metric within ~15 minutes.
 *
 * A timeline of switches makes every value a pure function of time (history and live agree).
 */
import type { SimServer } from './fleet';
import { ramp } from './random';
import { SCENARIO_NAMES } from '../config/scenarios';
import type { ScenarioName } from '../config/scenarios';

// the names are the config's (source.simulator.scenario); the simulator's callers take them from here
export { SCENARIO_NAMES };
export type { ScenarioName };

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Returns the scenario, or throws ScenarioError naming the bad value and the valid ones. */
export function parseScenario(name: string): ScenarioName {
  if ((SCENARIO_NAMES as readonly string[]).includes(name)) return name as ScenarioName;
  throw new ScenarioError(`unknown scenario "${name}" (expected one of: ${SCENARIO_NAMES.join(', ')})`);
}

/** Share of the fleet a scenario stresses, and how long the stress takes to build up by default. */
const STRESS: Readonly<Record<ScenarioName, { share: number; rampSeconds: number }>> = {
  healthy: { share: 0, rampSeconds: 0 },
  busy: { share: 0, rampSeconds: 0 },
  degrading: { share: 0.25, rampSeconds: 40 * 60 },
  critical: { share: 0.5, rampSeconds: 15 * 60 },
};
/** When the fleet leaves a stressed scenario, the stress fades over this long. */
const RECOVERY_SECONDS = 10 * 60;

export interface ScenarioSwitch {
  /** Unix seconds. */
  readonly at: number;
  readonly scenario: ScenarioName;
}

/** The stress a server is under at an instant: which scenario's targets, and how far towards them (0–1). */
export interface Stress {
  readonly scenario: ScenarioName;
  readonly intensity: number;
}

/** Number of servers a scenario stresses in a fleet of `size`. */
export function stressedCount(scenario: ScenarioName, size: number): number {
  return Math.round(STRESS[scenario].share * size);
}

export class ScenarioTimeline {
  private readonly switches: ScenarioSwitch[];

  /**
   * `initial` holds from the beginning of time. `buildUpSeconds`, when given, is how long every
   * stressing scenario (degrading, critical) takes to build up after a switch, instead of its own
   * (40 min, 15 min).
   */
  constructor(
    initial: ScenarioName,
    private readonly fleetSize: number,
    private readonly buildUpSeconds?: number,
  ) {
    this.switches = [{ at: -Infinity, scenario: initial }];
  }

  /** Switches at `at` (unix seconds); switches must come in time order. */
  switchTo(scenario: ScenarioName, at: number): void {
    const last = this.switches[this.switches.length - 1]!;
    if (at < last.at) throw new ScenarioError(`scenario switch at ${at} is before the previous one at ${last.at}`);
    this.switches.push({ at, scenario });
  }

  /** The scenario in force at t. */
  scenarioAt(t: number): ScenarioName {
    return this.indexAt(t).scenario;
  }

  /** All switches after the initial scenario, in order. */
  history(): readonly ScenarioSwitch[] {
    return this.switches.slice(1);
  }

  /**
   * The stresses acting on a server at t: the current scenario's, building up since its switch,
   * and the previous one's, fading out. Callers apply the stronger effect per metric.
   */
  stressesAt(server: SimServer, t: number): Stress[] {
    const i = this.lastIndexAt(t);
    const cur = this.switches[i]!;
    const out: Stress[] = [];
    const curIntensity = this.intensity(server, i, t);
    if (curIntensity > 0) out.push({ scenario: cur.scenario, intensity: curIntensity });
    if (i > 0) {
      const prev = this.switches[i - 1]!;
      const atSwitch = this.intensity(server, i - 1, cur.at);
      const fading = atSwitch * (1 - ramp(t, cur.at, cur.at + RECOVERY_SECONDS));
      if (fading > 0 && prev.scenario !== cur.scenario) out.push({ scenario: prev.scenario, intensity: fading });
    }
    return out;
  }

  private intensity(server: SimServer, i: number, t: number): number {
    const sw = this.switches[i]!;
    if (server.stressRank >= stressedCount(sw.scenario, this.fleetSize)) return 0;
    // a scenario in force from the beginning of time is fully built up
    if (sw.at === -Infinity) return 1;
    const rampSeconds = STRESS[sw.scenario].share > 0 && this.buildUpSeconds !== undefined ? this.buildUpSeconds : STRESS[sw.scenario].rampSeconds;
    return ramp(t, sw.at, sw.at + rampSeconds);
  }

  private indexAt(t: number): ScenarioSwitch {
    return this.switches[this.lastIndexAt(t)]!;
  }

  private lastIndexAt(t: number): number {
    let i = this.switches.length - 1;
    while (i > 0 && this.switches[i]!.at > t) i--;
    return i;
  }
}

/**
 * Parses a history schedule: `healthy` or `healthy,36h:critical,40h:healthy` — the first
 * scenario holds from the start, each `offset:scenario` switches at start + offset.
 * Offsets take s, m, h or d. Throws ScenarioError naming the bad part.
 */
export function parseSchedule(text: string): { initial: ScenarioName; switches: Array<{ offsetSeconds: number; scenario: ScenarioName }> } {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new ScenarioError(`schedule "${text}" is empty`);
  const [first, ...rest] = parts;
  const initial = parseScenario(first!);
  const switches = rest.map((part) => {
    const m = /^(\d+(?:\.\d+)?)([smhd]):([a-z_]+)$/.exec(part);
    if (!m) throw new ScenarioError(`schedule: "${part}" is not offset:scenario (e.g. 36h:critical)`);
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return { offsetSeconds: Number(m[1]) * unit, scenario: parseScenario(m[3]!) };
  });
  for (let k = 1; k < switches.length; k++) {
    if (switches[k]!.offsetSeconds < switches[k - 1]!.offsetSeconds) {
      throw new ScenarioError(`schedule: "${rest[k]}" comes before the switch listed ahead of it`);
    }
  }
  return { initial, switches };
}
