/**
 * Injected incidents with a known onset: a memory leak or a disk fill that ramps from the
 * server's normal value and crosses its profile's critical threshold at a recorded instant.
 * Later stages measure early-warning lead time against these records.
 */
import type { ProfileName } from '../profiles/profiles';
import { DEFAULT_THRESHOLDS } from '../profiles/profiles';
import type { SimServer } from './fleet';
import { uniform } from './random';

export const INCIDENT_KINDS = ['memory_leak', 'disk_fill'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

/** How long an incident stays past its crossing before it is fixed (restart, cleanup). */
export const INCIDENT_HOLD_SECONDS = 3600;

export class IncidentError extends Error {
  override readonly name = 'IncidentError';
}

/** The record of one incident; times are unix seconds. */
export interface IncidentRecord {
  readonly id: string;
  readonly instance: string;
  readonly profile: ProfileName;
  readonly kind: IncidentKind;
  /** The default metric it shows up on: `memory` or `disk`. */
  readonly metric: 'memory' | 'disk';
  /** The profile's critical threshold for that metric, %. */
  readonly threshold: number;
  /** The value when the ramp starts, %. */
  readonly startValue: number;
  readonly onset: number;
  /** When the metric crosses `threshold`. */
  readonly crossing: number;
  /** When it is fixed and the metric returns to normal. */
  readonly end: number;
}

export class Incident implements IncidentRecord {
  readonly id: string;
  readonly instance: string;
  readonly profile: ProfileName;
  readonly kind: IncidentKind;
  readonly metric: 'memory' | 'disk';
  readonly threshold: number;
  readonly startValue: number;
  readonly onset: number;
  readonly crossing: number;
  readonly end: number;
  /** Where the ramp stops rising: most of the way from the threshold to 100 %. */
  private readonly peak: number;

  constructor(r: IncidentRecord) {
    ({
      id: this.id,
      instance: this.instance,
      profile: this.profile,
      kind: this.kind,
      metric: this.metric,
      threshold: this.threshold,
      startValue: this.startValue,
      onset: this.onset,
      crossing: this.crossing,
      end: this.end,
    } = r);
    this.peak = this.threshold + 0.7 * (100 - this.threshold);
  }

  /** The metric's value at t in [onset, end]: a straight ramp through (crossing, threshold), without noise so the crossing is exact. */
  valueAt(t: number): number {
    const slope = (this.threshold - this.startValue) / (this.crossing - this.onset);
    return Math.min(this.peak, this.startValue + slope * (t - this.onset));
  }

  toJSON(): IncidentRecord {
    const { id, instance, profile, kind, metric, threshold, startValue, onset, crossing, end } = this;
    return { id, instance, profile, kind, metric, threshold, startValue, onset, crossing, end };
  }
}

/** The incident kind that suits a profile: disks fill on storage hosts, memory leaks elsewhere. */
export function defaultIncidentKind(profile: ProfileName): IncidentKind {
  return profile === 'database' || profile === 'data_ingest' ? 'disk_fill' : 'memory_leak';
}

/** All incidents of a simulation, looked up by instance and time. */
export class IncidentBook {
  private readonly byInstance = new Map<string, Incident[]>();
  private readonly all: Incident[] = [];

  add(record: IncidentRecord): Incident {
    const list = this.byInstance.get(record.instance) ?? [];
    for (const other of list) {
      if (record.onset <= other.end && other.onset <= record.end) {
        throw new IncidentError(`incident on ${record.instance} overlaps ${other.id} (${other.kind} until ${other.end})`);
      }
    }
    const inc = new Incident(record);
    list.push(inc);
    this.byInstance.set(record.instance, list);
    this.all.push(inc);
    return inc;
  }

  /** The incident acting on the instance at t, if any. */
  activeFor(instance: string, t: number): Incident | undefined {
    const list = this.byInstance.get(instance);
    if (!list) return undefined;
    for (const inc of list) if (t >= inc.onset && t <= inc.end) return inc;
    return undefined;
  }

  list(): readonly Incident[] {
    return this.all;
  }
}

/**
 * Plans an incident on `server` starting at `onset` that crosses the profile's critical
 * threshold `rampSeconds` later. `startValue` is the metric's normal value at onset.
 */
export function planIncident(server: SimServer, id: string, kind: IncidentKind, onset: number, rampSeconds: number, startValue: number): IncidentRecord {
  if (!(rampSeconds >= 300)) throw new IncidentError(`incident ramp must be at least 5 minutes (got ${rampSeconds} s)`);
  const metric = kind === 'memory_leak' ? 'memory' : 'disk';
  const threshold = DEFAULT_THRESHOLDS[server.profile][metric].critical;
  if (startValue >= threshold - 2) {
    throw new IncidentError(
      `cannot inject ${kind} on ${server.instance}: ${metric} is already ${startValue.toFixed(1)} %, at its critical threshold ${threshold} %`,
    );
  }
  const crossing = onset + rampSeconds;
  return {
    id,
    instance: server.instance,
    profile: server.profile,
    kind,
    metric,
    threshold,
    startValue,
    onset,
    crossing,
    end: crossing + INCIDENT_HOLD_SECONDS,
  };
}

/**
 * Draws `count` incident slots over [from, to): which server, when, and how long the ramp is
 * (1–4 h, long enough to warn early). Deterministic for a seed.
 */
export function drawIncidentSlots(
  seed: number,
  fleet: readonly SimServer[],
  count: number,
  from: number,
  to: number,
): Array<{ server: SimServer; onset: number; rampSeconds: number }> {
  const slots: Array<{ server: SimServer; onset: number; rampSeconds: number }> = [];
  const span = to - from;
  if (count > 0 && span < 6 * 3600) throw new IncidentError('incidents need at least 6 hours of history to fit in');
  for (let k = 0; k < count; k++) {
    const server = fleet[Math.floor(uniform(seed, 80, k) * fleet.length)]!;
    const rampSeconds = Math.round((3600 + uniform(seed, 81, k) * 3 * 3600) / 60) * 60;
    const latest = to - rampSeconds - INCIDENT_HOLD_SECONDS;
    const onset = Math.round((from + uniform(seed, 82, k) * Math.max(0, latest - from)) / 60) * 60;
    slots.push({ server, onset, rampSeconds });
  }
  return slots;
}
