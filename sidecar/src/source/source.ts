/**
 * The source stage: windows of history per instance, aligned on the model's step. Prometheus
 * and the embedded simulator are two implementations of the same small interface.
 */
import type { MetricName } from '../profiles/profiles';
import type { DropReason } from './validate';

/**
 * One series' values in a window, oldest first. Single precision: what the model reads (its
 * inputs are float32) in half the memory of float64 (a 10,000-server window is ~170 MB in float64).
 */
export type SeriesValues = Float32Array;

/** History of every instance on one time grid: timestamps end - (length-1)·step … end. */
export interface HistoryWindow {
  /** Unix seconds of the last point (the forecast origin). */
  readonly end: number;
  readonly step: number;
  readonly length: number;
  /** instance → metric → values (NaN where missing); metrics with no data are absent. */
  readonly instances: ReadonlyMap<string, Partial<Record<MetricName, SeriesValues>>>;
  /** Samples dropped by the value checks (validate.ts), per metric and reason; they are NaN in `instances`. */
  readonly dropped: Readonly<Partial<Record<MetricName, Readonly<Partial<Record<DropReason, number>>>>>>;
  /** instance → its `profile` label, where the source has one (profiles.label_query). */
  readonly profiles?: ReadonlyMap<string, string>;
  /** Metrics whose query failed (the window has no data for them), with the reason. */
  readonly failed: ReadonlyArray<{ readonly metric: MetricName; readonly error: SourceError }>;
}

export type SourceErrorReason =
  'timeout' | 'network' | 'http_5xx' | 'http_429' | 'http_4xx' | 'auth' | 'bad_response' | 'query' | 'too_large' | 'too_many_instances' | 'aborted';

/** Every reason, for counters that start at zero. */
export const SOURCE_ERROR_REASONS: readonly SourceErrorReason[] = [
  'timeout',
  'network',
  'http_5xx',
  'http_429',
  'http_4xx',
  'auth',
  'bad_response',
  'query',
  'too_large',
  'too_many_instances',
  'aborted',
];

/** A failure to read history, classified where it happens: can a retry help? */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly reason: SourceErrorReason,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  /** Look up the instances' profile labels as well (default true; a second read of the same cycle skips it). */
  readonly profiles?: boolean;
}

/** What the loop asks of a source. */
export interface HistorySource {
  /** Human-readable, for logs: "prometheus http://…" or "simulator (20 servers)". */
  readonly description: string;
  /**
   * History of `length` points `step` apart ending at `end`; throws SourceError when nothing at
   * all could be read. Each point is the value the metric's expression has at that instant,
   * whatever the step: a read at a 1 h step gives, on the hour, exactly what the 5-minute read
   * gives there (point samples, not averages over the step).
   */
  fetch(end: number, length: number, step: number, options?: FetchOptions): Promise<HistoryWindow>;
  /**
   * Ends every read in flight now: their fetch settles at once (queries not yet answered fail
   * with reason `aborted`), so reload and shutdown never wait behind a stuck answer. Later
   * fetches run normally. Absent where reads cannot hang (the simulator).
   */
  abort?(why?: string): void;
  /**
   * Releases what the source holds between reads (Prometheus: its keep-alive connections); the
   * source is not read again after it. Absent where there is nothing to release (the simulator).
   */
  close?(): void;
}
