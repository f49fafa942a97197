/**
 * Main-thread side of matrix-worker.ts: `parseMatrix(body)` resolves with the series of a
 * query_range answer, parsed in a worker thread so a large answer never stalls the event loop.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A matrix answer packed for the trip between threads: series i has samples offsets[i]..offsets[i+1]. */
export interface PackedMatrix {
  readonly labels: ReadonlyArray<Record<string, string>>;
  readonly offsets: Uint32Array;
  readonly times: Float64Array;
  readonly values: Float64Array;
}

/** One series of a matrix answer: its labels, sample times (unix s) and values (non-finite where not a number). */
export interface MatrixSeries {
  readonly metric: Record<string, string>;
  readonly times: Float64Array;
  readonly values: Float64Array;
}

export function unpack(p: PackedMatrix): MatrixSeries[] {
  return p.labels.map((metric, i) => ({ metric, times: p.times.subarray(p.offsets[i], p.offsets[i + 1]), values: p.values.subarray(p.offsets[i], p.offsets[i + 1]) }));
}

function workerScript(): string {
  const local = path.join(__dirname, 'matrix-worker.js');
  if (existsSync(local)) return local;
  const built = path.resolve(__dirname, '..', '..', 'dist', 'source', 'matrix-worker.js');
  if (existsSync(built)) return built;
  throw new Error(`matrix parser not found at ${local} or ${built}: run npm run build`);
}

type Reply = { id: number; packed: PackedMatrix; error?: undefined } | { id: number; error: string };

class MatrixParser {
  private readonly worker = new Worker(workerScript());
  private readonly pending = new Map<number, { resolve: (p: PackedMatrix) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  constructor() {
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.packed);
    });
    const fail = (e: Error): void => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      if (parser === this) parser = undefined;
    };
    this.worker.on('error', (e) => fail(new Error(`matrix parser crashed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`matrix parser exited (${code})`)));
    // idle, it must not keep the process alive; busy, it does (see parse)
    this.worker.unref();
  }

  parse(body: Buffer): Promise<PackedMatrix> {
    const id = this.nextId++;
    // the worker takes the bytes over; a Buffer that shares its ArrayBuffer (Node's pool for
    // small ones) is copied first
    const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const copy = whole ? new Uint8Array(body.buffer, 0, body.byteLength) : Uint8Array.from(body);
    return new Promise<PackedMatrix>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, body: copy }, [copy.buffer as ArrayBuffer]);
    });
  }
}

let parser: MatrixParser | undefined;

/** Parses a query_range response body; rejects with the reason when it is not a success matrix. */
export async function parseMatrix(body: Buffer): Promise<MatrixSeries[]> {
  parser ??= new MatrixParser();
  return unpack(await parser.parse(body));
}
