/**
 * The sidecar's own health counters, as /metrics publishes them (foresight_errors_total,
 * foresight_samples_dropped_total, foresight_forecasts_dropped_total and the cycle-duration
 * histogram). Counters that a reason can be known for start at zero, so a rate() over them
 * works before the first failure.
 */
import { FORECAST_DROP_REASONS } from '../forecast/forecaster';
import { CYCLE_BUCKETS } from '../exporter/metrics';
import { METRIC_NAMES } from '../profiles/profiles';
import type { HistoryWindow } from '../source/source';
import { SOURCE_ERROR_REASONS } from '../source/source';
import { DROP_REASONS } from '../source/validate';

/** A Prometheus histogram's state: cumulative counts per CYCLE_BUCKETS bound (`le`), sum and count. */
export interface Histogram {
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** Adds one observation to `h`: every bucket whose bound it is within counts it (buckets are cumulative). */
export function observeInto(h: Histogram, seconds: number): void {
  CYCLE_BUCKETS.forEach((le, i) => {
    if (seconds <= le) h.buckets[i]!++;
  });
  h.sum += seconds;
  h.count++;
}

export class SelfMonitor {
  /** Failed operations (a query, a cycle's inference, a reload), `stage|reason` → count. */
  readonly errors = new Map<string, number>();
  /** Samples dropped by the value checks, `metric|reason` → count (per sample, apart from the per-read errors). */
  readonly dropped = new Map<string, number>(METRIC_NAMES.flatMap((m) => DROP_REASONS.map((r) => [`${m}|${r}`, 0] as const)));
  /** Series whose forecast could not be made, reason → count (per series and cycle). */
  readonly droppedForecasts = new Map<string, number>(FORECAST_DROP_REASONS.map((r) => [r, 0]));
  /** Seconds per cycle stage (`source`, `forecast`, `risk`, `total`). */
  readonly durations = new Map<string, Histogram>();

  constructor() {
    for (const [stage, reasons] of [
      ['source', SOURCE_ERROR_REASONS],
      ['forecast', ['inference']],
      ['reload', ['config', 'model']],
    ] as const) {
      for (const r of reasons) this.errors.set(`${stage}|${r}`, 0);
    }
  }

  countError(stage: string, reason: string, n = 1): void {
    add(this.errors, `${stage}|${reason}`, n);
  }

  /** A read's dropped samples (HistoryWindow.dropped: metric → reason → count). */
  countDropped(dropped: HistoryWindow['dropped']): void {
    for (const [metric, byReason] of Object.entries(dropped)) {
      for (const [reason, n] of Object.entries(byReason ?? {})) if (n) add(this.dropped, `${metric}|${reason}`, n);
    }
  }

  /** A forecast's series that could not be made, reason → count. */
  countDroppedForecasts(byReason: Readonly<Partial<Record<string, number>>>): void {
    for (const [reason, n] of Object.entries(byReason)) if (n !== undefined) add(this.droppedForecasts, reason, n);
  }

  /** How long a cycle stage took. */
  observe(stage: string, seconds: number): void {
    const h = this.durations.get(stage) ?? { buckets: CYCLE_BUCKETS.map(() => 0), sum: 0, count: 0 };
    observeInto(h, seconds);
    this.durations.set(stage, h);
  }
}

function add(counts: Map<string, number>, key: string, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}
