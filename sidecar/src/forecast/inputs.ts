/**
 * Known-future inputs every contract shares, exactly as model.json specifies them
 * (features.known_encoding). Pure: times in, values out.
 */

const TWO_PI = 2 * Math.PI;
const DAY = 86400;

/** Tensors of an earlier batch that a new batch of the same size may be written into (see `reusable`). */
export type SpareTensors = Readonly<Record<string, Float32Array | BigInt64Array>>;

/**
 * A zeroed tensor of `size` values: `spare`'s tensor of that name when it has exactly that size
 * (cleared), else a new one. Reusing a batch's buffers once inference is done with them keeps a
 * cycle from leaving a dead copy of every model input behind for the collector.
 */
export function reusable(spare: SpareTensors | undefined, name: string, size: number, dtype: 'float32'): Float32Array;
export function reusable(spare: SpareTensors | undefined, name: string, size: number, dtype: 'int64'): BigInt64Array;
export function reusable(spare: SpareTensors | undefined, name: string, size: number, dtype: 'float32' | 'int64'): Float32Array | BigInt64Array {
  const old = spare?.[name];
  if (dtype === 'int64') return old instanceof BigInt64Array && old.length === size ? old.fill(0n) : new BigInt64Array(size);
  return old instanceof Float32Array && old.length === size ? old.fill(0) : new Float32Array(size);
}

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
