/**
 * The plugin's one input shape: named, labelled time series. Grafana data frames (any
 * Prometheus-compatible datasource) and the sidecar's own JSON (the preview page) are both
 * converted into this, so the prepare functions never see where the data came from.
 */
import type { DataFrame } from '@grafana/data';

export interface SeriesInput {
  /** Metric name (`__name__`), e.g. foresight_risk_score. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Unix milliseconds, ascending. */
  readonly times: readonly number[];
  readonly values: ReadonlyArray<number | null>;
}

/**
 * Grafana frames → series. The metric name comes from the value field's `__name__` label (what
 * the Prometheus datasource sets for a plain selector), else the frame's name.
 */
export function framesToSeries(frames: readonly DataFrame[]): SeriesInput[] {
  const out: SeriesInput[] = [];
  for (const frame of frames) {
    const time = frame.fields.find((f) => f.type === 'time');
    if (!time) {
      continue;
    }
    for (const field of frame.fields) {
      if (field.type !== 'number') {
        continue;
      }
      const labels = { ...(field.labels ?? {}) };
      const name = labels['__name__'] ?? frame.name ?? '';
      delete labels['__name__'];
      const times: number[] = [];
      const values: Array<number | null> = [];
      for (let i = 0; i < frame.length; i++) {
        const t = Number(time.values[i]);
        const v: unknown = field.values[i];
        times.push(t);
        values.push(typeof v === 'number' && Number.isFinite(v) ? v : null);
      }
      out.push({ name, labels, times, values });
    }
  }
  return out;
}

/** The last non-null value of a series and its time, or undefined. */
export function lastValue(s: SeriesInput): { time: number; value: number } | undefined {
  for (let i = s.values.length - 1; i >= 0; i--) {
    const v = s.values[i];
    if (v !== null && v !== undefined) {
      return { time: s.times[i]!, value: v };
    }
  }
  return undefined;
}

/**
 * The last good data of a `foresight_instance_stale` series: the newest sample with value 0
 * before its trailing run of 1s (null when it was 1 all through the data).
 */
export function lastGoodAt(s: SeriesInput): number | null {
  for (let i = s.values.length - 1; i >= 0; i--) {
    if (s.values[i] === 0) {
      return s.times[i]!;
    }
  }
  return null;
}

/** A clock time and its age: "14:05 (12 min ago)". */
export function timeAndAge(ms: number, now: number, formatTime: (ms: number) => string): string {
  const m = Math.max(0, Math.round((now - ms) / 60000));
  return `${formatTime(ms)} (${m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`} ago)`;
}

/** Prometheus duration ("30m", "1h30m", "8h") → seconds; undefined if it is not one (the contract package's parser). */
export { parseDuration as durationSeconds } from '@foresight/contract';
