/**
 * Axes for the cones, as data: each metric's unit and how its values read ("85%", "110 MB/s",
 * "1.5"), round y ticks, and time ticks relative to now ("−24h" … "now" … "+8h"). Pure; the
 * views only place what these return.
 */

export interface MetricUnit {
  /** What the axis measures, for the chart's title. */
  readonly label: string;
  /** Bounded to 0–100 (percent metrics are published bounded). */
  readonly percent: boolean;
  readonly format: (v: number) => string;
}

const SI = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** 3 significant digits at most, no trailing zeros: 0.25, 1.5, 12, 110. */
function short(v: number): string {
  const a = Math.abs(v);
  const digits = a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2;
  return String(Number(v.toFixed(digits)));
}

/** Bytes per second with SI prefixes: "850 kB/s", "110 MB/s", "1.2 GB/s". */
export function formatBytesPerSecond(v: number): string {
  for (const [f, p] of SI) {
    if (Math.abs(v) >= f) {
      return `${short(v / f)} ${p}B/s`;
    }
  }
  return `${short(v)} B/s`;
}

const percent = (label: string): MetricUnit => ({ label, percent: true, format: (v) => `${short(v)}%` });

const UNITS: Readonly<Record<string, MetricUnit>> = {
  cpu: percent('% busy'),
  memory: percent('% used'),
  disk: percent('% used, fullest filesystem'),
  iowait: percent('% of CPU time in I/O wait'),
  load: { label: 'load1 per core', percent: false, format: short },
  network: { label: 'bytes/s in + out', percent: false, format: formatBytesPerSecond },
};

/** The unit of one of the default metrics; a plain number for any other. */
export function unitOf(metric: string): MetricUnit {
  return UNITS[metric] ?? { label: '', percent: false, format: short };
}

export interface YAxis {
  readonly min: number;
  readonly max: number;
  /** Round values between min and max inclusive, ascending. */
  readonly ticks: readonly number[];
}

/**
 * A y axis over the values with at most `maxTicks` round ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ) whose
 * ends are ticks themselves; percent axes stay within 0–100, other axes start at 0 when the
 * values are all positive and within twice their spread of it.
 */
export function yAxis(values: readonly number[], unit: Pick<MetricUnit, 'percent'>, maxTicks = 5): YAxis {
  const finite = values.filter((v) => Number.isFinite(v));
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (unit.percent) {
    lo = Math.max(0, lo);
    hi = Math.min(100, hi);
  }
  if (lo >= 0 && lo <= 2 * (hi - lo)) {
    lo = 0;
  }
  if (hi - lo < 1e-9) {
    hi = lo === 0 ? 1 : lo + Math.abs(lo) * 0.1;
  }
  const raw = (hi - lo) / Math.max(1, maxTicks - 1);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw - 1e-12) ?? 10) * mag;
  let min = Math.floor(lo / step + 1e-9) * step;
  let max = Math.ceil(hi / step - 1e-9) * step;
  if (unit.percent) {
    min = Math.max(0, min);
    max = Math.min(100, max);
  }
  const ticks: number[] = [];
  for (let v = min; v <= max + step * 1e-6; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return { min, max, ticks };
}

export interface TimeTick {
  /** Unix ms. */
  readonly t: number;
  /** "−24h", "now", "+8h". */
  readonly label: string;
}

const HOUR = 3600_000;
const STEPS_H = [1, 2, 3, 4, 6, 8, 12, 24];

/** "−6h", "+30m", "now": an offset from now in whole hours, or minutes below an hour. */
export function formatOffset(ms: number): string {
  if (Math.abs(ms) < 1000) {
    return 'now';
  }
  const sign = ms < 0 ? '−' : '+';
  const a = Math.abs(ms);
  return a >= HOUR && a % HOUR === 0 ? `${sign}${a / HOUR}h` : `${sign}${Math.round(a / 60000)}m`;
}

/**
 * Ticks at whole hours before and after now: the past and the future each get the smallest step
 * (1, 2, 3, 4, 6, 8, 12 or 24 h) that leaves at most `maxPast` / `maxFuture` ticks, counted back
 * and forward from now, so the window's ends (−24h, +8h) are ticks when they are whole multiples.
 */
export function timeTicks(start: number, now: number, end: number, maxPast: number, maxFuture: number): TimeTick[] {
  const side = (span: number, max: number): number | undefined => {
    if (span < HOUR || max < 1) {
      return undefined;
    }
    // prefer steps that divide a whole-hour span, so its end gets a tick
    const hours = span / HOUR;
    const dividing = Number.isInteger(Math.round(hours * 1e6) / 1e6)
      ? STEPS_H.filter((h) => Math.round(hours) % h === 0)
      : [];
    const steps = dividing.length > 0 ? dividing : STEPS_H;
    return (steps.find((h) => hours / h <= max + 1e-9) ?? steps[steps.length - 1]!) * HOUR;
  };
  const ticks: TimeTick[] = [];
  const back = side(now - start, maxPast);
  if (back !== undefined) {
    for (let k = Math.floor((now - start) / back + 1e-9); k >= 1; k--) {
      ticks.push({ t: now - k * back, label: formatOffset(-k * back) });
    }
  }
  ticks.push({ t: now, label: 'now' });
  const ahead = side(end - now, maxFuture);
  if (ahead !== undefined) {
    for (let k = 1; k * ahead <= end - now + 1e-6; k++) {
      ticks.push({ t: now + k * ahead, label: formatOffset(k * ahead) });
    }
  }
  return ticks;
}

/** "1h45m", "30m", "2h": a lead time. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) {
    return `${Math.max(0, Math.round(seconds))}s`;
  }
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}
