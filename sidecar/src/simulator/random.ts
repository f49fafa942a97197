/**
 * Deterministic, random-access noise. Every simulated value is a pure function of
 * (seed, server, channel, time), so live serving and history generation agree to the sample
 * and any instant can be computed without replaying the past.
 */

/** 32-bit integer hash of a list of integers (murmur3 finaliser over a running mix). */
export function hash32(...values: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    let k = Math.imul(v | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    // fold in the high bits of values beyond 32 bits (timestamps, indices of large fleets)
    h ^= Math.floor(v / 4294967296) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) from a list of integers. */
export function uniform(...values: readonly number[]): number {
  return hash32(...values) / 4294967296;
}

/**
 * Smooth value noise in [0, 1): uniform knots every `period` seconds, cosine-interpolated,
 * so the signal wanders without jumping (what real utilisation looks like between events).
 */
export function smoothNoise(seed: number, server: number, channel: number, t: number, period: number): number {
  const x = t / period;
  const k = Math.floor(x);
  const f = x - k;
  const a = uniform(seed, server, channel, k);
  const b = uniform(seed, server, channel, k + 1);
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return a + (b - a) * w;
}

/** Clamp to [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** 0 before `a`, 1 after `b`, linear in between. */
export function ramp(t: number, a: number, b: number): number {
  if (b <= a) return t >= b ? 1 : 0;
  return clamp((t - a) / (b - a), 0, 1);
}
