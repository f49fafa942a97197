/**
 * The simulated fleet: which servers exist, their profile, and the fixed traits that make
 * each one behave a little differently (size, phase, whether it leaks memory).
 */
import type { ProfileName } from '../profiles/profiles';
import { PROFILE_NAMES, isProfileName } from '../profiles/profiles';
import { uniform } from './random';

/** How many servers of each profile. */
export type FleetSpec = Readonly<Record<ProfileName, number>>;

/** The demo fleet: 20 servers in 7 profiles. */
export const DEFAULT_FLEET: FleetSpec = {
  ml_compute: 10,
  database: 3,
  web_api: 3,
  conductor_mgmt: 1,
  data_ingest: 1,
  risk_analytics: 1,
  generic: 1,
};

/** Instance name prefix and minimum digit count per profile: ppml0001, ppdb001, ppcon01 … */
const NAMING: Readonly<Record<ProfileName, { prefix: string; digits: number }>> = {
  ml_compute: { prefix: 'ppml', digits: 4 },
  database: { prefix: 'ppdb', digits: 3 },
  web_api: { prefix: 'ppweb', digits: 3 },
  conductor_mgmt: { prefix: 'ppcon', digits: 2 },
  data_ingest: { prefix: 'ppdi', digits: 3 },
  risk_analytics: { prefix: 'ppra', digits: 3 },
  generic: { prefix: 'ppsrv', digits: 3 },
};

/** Hardware per profile: cores, RAM, and whether the host has a separate /data volume. */
const HARDWARE: Readonly<Record<ProfileName, { cpus: number; memGiB: number; dataTB: number }>> = {
  ml_compute: { cpus: 4, memGiB: 128, dataTB: 4 },
  database: { cpus: 4, memGiB: 64, dataTB: 2 },
  web_api: { cpus: 2, memGiB: 16, dataTB: 0 },
  conductor_mgmt: { cpus: 2, memGiB: 8, dataTB: 0 },
  data_ingest: { cpus: 2, memGiB: 32, dataTB: 8 },
  risk_analytics: { cpus: 4, memGiB: 64, dataTB: 1 },
  generic: { cpus: 2, memGiB: 16, dataTB: 0 },
};

export const MAX_FLEET_SIZE = 100_000;

export interface SimServer {
  /** Position in the fleet; keys every random draw for this server. */
  readonly index: number;
  readonly instance: string;
  readonly profile: ProfileName;
  readonly cpus: number;
  readonly memTotalBytes: number;
  readonly rootSizeBytes: number;
  /** 0 when the server has no /data volume. */
  readonly dataSizeBytes: number;
  /** Hours this server's daily cycle is shifted by (teams in other time zones, batch offsets). */
  readonly phaseHours: number;
  /** Memory that grows until the process is restarted: period in hours, 0 for no leak. */
  readonly leakPeriodHours: number;
  /** Rank in a fixed random order; scenarios stress the lowest ranks first. */
  readonly stressRank: number;
}

/** A fleet spec that cannot be used; the message names the offending value. */
export class FleetSpecError extends Error {
  override readonly name = 'FleetSpecError';
}

/**
 * Parses `profile=count,…` (e.g. `ml_compute=10,database=3`); profiles not named get 0.
 * Throws FleetSpecError naming the bad part.
 */
export function parseFleetSpec(text: string): FleetSpec {
  const counts: Record<ProfileName, number> = Object.fromEntries(PROFILE_NAMES.map((p) => [p, 0])) as Record<ProfileName, number>;
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new FleetSpecError(`fleet spec "${text}": empty (expected profile=count,…)`);
  for (const part of parts) {
    const m = /^([a-z_]+)\s*[=:]\s*(\S+)$/.exec(part);
    if (!m) throw new FleetSpecError(`fleet spec: "${part}" is not profile=count`);
    const [, profile = '', countText = ''] = m;
    if (!isProfileName(profile)) {
      throw new FleetSpecError(`fleet spec: unknown profile "${profile}" (expected one of: ${PROFILE_NAMES.join(', ')})`);
    }
    if (!/^\d+$/.test(countText)) {
      throw new FleetSpecError(`fleet spec: count for ${profile} must be a whole number ≥ 0 (got "${countText}")`);
    }
    counts[profile] += Number(countText);
  }
  return validateSize(counts, text);
}

/**
 * Scales the default mix to `total` servers (largest-remainder rounding), keeping every
 * profile present when total ≥ 7. Used by `--servers 1000`.
 */
export function scaleFleet(total: number, mix: FleetSpec = DEFAULT_FLEET): FleetSpec {
  if (!Number.isInteger(total) || total < 1) {
    throw new FleetSpecError(`fleet size must be a whole number ≥ 1 (got "${total}")`);
  }
  const base = PROFILE_NAMES.reduce((s, p) => s + mix[p], 0);
  const exact = PROFILE_NAMES.map((p) => (mix[p] * total) / base);
  const counts = exact.map((x) => Math.floor(x));
  if (total >= PROFILE_NAMES.length) {
    counts.forEach((c, i) => {
      if (c === 0 && mix[PROFILE_NAMES[i]!] > 0) counts[i] = 1;
    });
  }
  let left = total - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k]!.i]! += 1;
  // the "every profile present" bump can overshoot: take the excess from the largest profile
  for (; left < 0; left++) counts[counts.indexOf(Math.max(...counts))]! -= 1;
  const spec = Object.fromEntries(PROFILE_NAMES.map((p, i) => [p, counts[i]!])) as Record<ProfileName, number>;
  return validateSize(spec, String(total));
}

function validateSize(counts: Record<ProfileName, number>, text: string): FleetSpec {
  const total = PROFILE_NAMES.reduce((s, p) => s + counts[p], 0);
  if (total === 0) throw new FleetSpecError(`fleet spec "${text}": no servers`);
  if (total > MAX_FLEET_SIZE) {
    throw new FleetSpecError(`fleet spec "${text}": ${total} servers is more than the simulator's limit of ${MAX_FLEET_SIZE}`);
  }
  return Object.freeze({ ...counts });
}

/** Builds the servers of a fleet; the same spec and seed always give the same fleet. */
export function buildFleet(spec: FleetSpec, seed: number): readonly SimServer[] {
  const servers: SimServer[] = [];
  for (const profile of PROFILE_NAMES) {
    const n = spec[profile];
    const { prefix, digits } = NAMING[profile];
    const width = Math.max(digits, String(n).length);
    const hw = HARDWARE[profile];
    for (let k = 1; k <= n; k++) {
      const index = servers.length;
      const leaks = profile !== 'database' && uniform(seed, index, 901) < 0.3;
      servers.push({
        index,
        instance: `${prefix}${String(k).padStart(width, '0')}`,
        profile,
        cpus: hw.cpus,
        memTotalBytes: hw.memGiB * 2 ** 30,
        rootSizeBytes: 100e9,
        dataSizeBytes: hw.dataTB * 1e12,
        phaseHours: (uniform(seed, index, 902) - 0.5) * 3,
        leakPeriodHours: leaks ? 20 + uniform(seed, index, 903) * 20 : 0,
        stressRank: 0,
      });
    }
  }
  // A fixed random order of the whole fleet: degrading takes the first quarter, critical
  // the first half, so the servers a scenario stresses are the same every run of a seed.
  const order = servers.map((s) => ({ s, key: uniform(seed, s.index, 904) })).sort((a, b) => a.key - b.key);
  order.forEach(({ s }, rank) => ((s as { stressRank: number }).stressRank = rank));
  return Object.freeze(servers.map((s) => Object.freeze(s)));
}
