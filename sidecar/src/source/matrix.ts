/**
 * Main-thread side of matrix-worker.ts: `parseMatrix(body)` resolves with the series of a
 * query_range answer, parsed in a worker thread so a large answer never stalls the event loop.
 */
import { RequestWorker, workerScriptPath } from '../threads';

/** A matrix answer packed for the trip between threads: series i has samples offsets[i]..offsets[i+1]. */
export interface PackedMatrix {
  readonly labels: ReadonlyArray<Record<string, string>>;
  readonly offsets: Uint32Array;
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** Per series: samples whose value was junk (not a Prometheus float string); NaN in `values`. */
  readonly invalid: Uint32Array;
}

/** One series of a matrix answer: its labels, sample times (unix s) and values (non-finite where not a number). */
export interface MatrixSeries {
  readonly metric: Record<string, string>;
  readonly times: Float64Array;
  readonly values: Float64Array;
  /** Samples whose value was junk rather than NaN/±Inf (they are NaN in `values`). */
  readonly invalid: number;
}

export function unpack(p: PackedMatrix): MatrixSeries[] {
  return p.labels.map((metric, i) => ({
    metric,
    times: p.times.subarray(p.offsets[i], p.offsets[i + 1]),
    values: p.values.subarray(p.offsets[i], p.offsets[i + 1]),
    invalid: p.invalid[i] ?? 0,
  }));
}

function workerScript(): string {
  const { found, tried } = workerScriptPath(__dirname, 'source', 'matrix-worker.js');
  if (!found) throw new Error(`matrix parser not found at ${tried.join(' or ')}: run npm run build`);
  return found;
}

let parser: RequestWorker | undefined;

/** Parses a query_range response body; rejects with the reason when it is not a success matrix. */
export async function parseMatrix(body: Buffer): Promise<MatrixSeries[]> {
  const worker = (parser ??= new RequestWorker(workerScript(), 'matrix parser', () => (parser = undefined)));
  // the worker takes the bytes over; a Buffer that shares its ArrayBuffer (Node's pool for
  // small ones) is copied first
  const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  const bytes = whole ? new Uint8Array(body.buffer, 0, body.byteLength) : Uint8Array.from(body);
  const reply = await worker.request({ body: bytes }, [bytes.buffer as ArrayBuffer]);
  return unpack(reply['packed'] as PackedMatrix);
}
