/**
 * Known-future inputs every contract shares, exactly as model.json specifies them
 * (features.known_encoding). Pure: times in, values out.
 */

const TWO_PI = 2 * Math.PI;
const DAY = 86400;

/** The known features, in model.json's `features.known` index order. */
export const KNOWN_FEATURES = ['tod_sin', 'tod_cos', 'dow_sin', 'dow_cos'] as const;

/**
 * Writes the four known features for each of the window's positions into `out` at `offset`:
 * position p is at origin + (p - encoderLength + 1) × step; [tod_sin, tod_cos, dow_sin, dow_cos].
 */
export function writeKnownFeatures(out: Float32Array, offset: number, origin: number, encoderLength: number, total: number, step: number): void {
  for (let p = 0; p < total; p++) {
    const t = origin + (p - encoderLength + 1) * step;
    const tod = (TWO_PI * (((t % DAY) + DAY) % DAY)) / DAY;
    const dow = (TWO_PI * ((((Math.floor(t / DAY) + 4) % 7) + 7) % 7)) / 7;
    const o = offset + p * 4;
    out[o] = Math.sin(tod);
    out[o + 1] = Math.cos(tod);
    out[o + 2] = Math.sin(dow);
    out[o + 3] = Math.cos(dow);
  }
}
