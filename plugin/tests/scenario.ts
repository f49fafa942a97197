/**
 * A hand-built fleet at a known moment, in both shapes the plugin reads: Grafana data frames
 * (what the Prometheus datasource returns for the panel's queries) and the sidecar's own JSON
 * (`/api/v1/fleet`, `/api/v1/instances/{instance}/forecast`) for the preview page. The browser
 * tests and the screenshot command use it where a state must be exact (who is worst, a source
 * that is down, a server without enough history); the recorded frames cover the rest.
 *
 * The story: 14:00 UTC, 20 servers in the demo's profiles. ppdb002's /data disk has filled for
 * two hours and is forecast to cross its 90 % critical threshold within the hour; ppml0003 leaks
 * memory; ppweb001's CPU climbs with traffic; ppsrv001 joined 3 h ago (too little history).
 */
import type { FleetSourceJson } from '@foresight/contract';

export const NOW = Date.UTC(2026, 11, 1, 14, 0) / 1000;
const STEP = 300;
export const HORIZONS: ReadonlyArray<readonly [string, number]> = [
  ['30m', 1800],
  ['1h', 3600],
  ['2h', 7200],
  ['3h', 10800],
  ['4h', 14400],
  ['6h', 21600],
  ['8h', 28800],
];
const METRICS = ['cpu', 'memory', 'disk', 'iowait', 'load', 'network'] as const;
type Metric = (typeof METRICS)[number];

export interface ServerSpec {
  readonly instance: string;
  readonly profile: string;
  /** Risk score now, 6 h ago (flat until the ramp starts), and the ramp's length in hours. */
  readonly score: number;
  readonly scoreBefore?: number;
  readonly rampHours?: number;
  /** Predicted risk score per horizon label (defaults to the current score). */
  readonly predicted?: Readonly<Record<string, number>>;
  readonly drivers?: Readonly<Record<string, number>>;
  /** The metric that drives it: its value now, before the ramp, and its p50 change per hour ahead. */
  readonly driver?: {
    readonly metric: Metric;
    readonly now: number;
    readonly before: number;
    readonly perHour: number;
  };
  readonly ready?: boolean;
  /**
   * Data state as the sidecar judges it (absent: an older sidecar, no state published). Stale: its
   * data stopped at `dataAt` and the last good risk and forecasts are carried over; unknown: no
   * score or forecast is published any more.
   */
  readonly state?: 'fresh' | 'stale' | 'unknown';
  /** Unix seconds of the last good data of a stale or unknown server. */
  readonly dataAt?: number;
}

const climb = (now: number, rates: readonly number[]): Record<string, number> =>
  Object.fromEntries(
    HORIZONS.map(([h], i) => [h, Math.min(99, Math.round((now + (rates[i] ?? rates[rates.length - 1]!)) * 100) / 100)])
  );

/** The critical moment (the default), and the same fleet after the ranking changed. */
export function fleetSpecs(variant: 'critical' | 'ranking-changed' = 'critical'): ServerSpec[] {
  const quiet = (instance: string, profile: string, score: number): ServerSpec => ({
    instance,
    profile,
    score,
    predicted: climb(score, [0, 1, 1, 2, 2, 1, 0]),
  });
  const specs: ServerSpec[] = [
    ...Array.from({ length: 10 }, (_, i) =>
      quiet(`ppml${String(i + 1).padStart(4, '0')}`, 'ml_compute', 8 + ((i * 7) % 15))
    ),
    quiet('ppdb001', 'database', 24),
    {
      instance: 'ppdb002',
      profile: 'database',
      score: 74,
      scoreBefore: 18,
      rampHours: 2,
      predicted: climb(74, [10, 17, 22, 22, 22, 22, 22]),
      drivers: { disk: 41, disk_trend: 12, disk_forecast: 15, iowait: 6 },
      driver: { metric: 'disk', now: 86.5, before: 71, perHour: 5.2 },
    },
    quiet('ppdb003', 'database', 27),
    {
      instance: 'ppweb001',
      profile: 'web_api',
      score: 52,
      scoreBefore: 20,
      rampHours: 1.5,
      predicted: climb(52, [3, 6, 10, 14, 19, 12, 4]),
      drivers: { cpu: 30, cpu_trend: 14, load: 8 },
      driver: { metric: 'cpu', now: 66, before: 35, perHour: 4 },
    },
    quiet('ppweb002', 'web_api', 31),
    quiet('ppweb003', 'web_api', 22),
    quiet('ppcon01', 'conductor_mgmt', 12),
    quiet('ppdi001', 'data_ingest', 35),
    quiet('ppra001', 'risk_analytics', 19),
    { instance: 'ppsrv001', profile: 'generic', score: 33, ready: false },
  ];
  const leak: ServerSpec = {
    instance: 'ppml0003',
    profile: 'ml_compute',
    score: 63,
    scoreBefore: 12,
    rampHours: 3,
    predicted: climb(63, [8, 14, 20, 25, 27, 29, 30]),
    drivers: { memory: 38, memory_trend: 15, memory_forecast: 10 },
    driver: { metric: 'memory', now: 93, before: 60, perHour: 2.2 },
  };
  const out = specs.map((s) => (s.instance === 'ppml0003' ? leak : s));
  if (variant === 'ranking-changed') {
    // ppdb002's disk was archived (back to healthy); ppweb001 now heads for critical
    return out.map((s) =>
      s.instance === 'ppdb002'
        ? { ...quiet('ppdb002', 'database', 21), driver: { metric: 'disk', now: 40, before: 86, perHour: 0 } }
        : s.instance === 'ppweb001'
          ? {
              ...s,
              score: 71,
              predicted: climb(71, [8, 14, 20, 24, 26, 26, 26]),
              driver: { metric: 'cpu', now: 82, before: 35, perHour: 4 },
            }
          : s
    );
  }
  return out;
}

/**
 * The critical moment with data trouble: ppml0003's data stopped at 13:40 (stale: its last good
 * risk and forecasts are carried over) and ppra001's at 13:20 (unknown by 14:00: nothing current).
 */
export const STALE_AT = NOW - 20 * 60;
export const UNKNOWN_AT = NOW - 40 * 60;
export function degradedSpecs(): ServerSpec[] {
  return fleetSpecs().map((s) =>
    s.instance === 'ppml0003'
      ? { ...s, state: 'stale' as const, dataAt: STALE_AT }
      : s.instance === 'ppra001'
        ? { ...s, state: 'unknown' as const, dataAt: UNKNOWN_AT }
        : { ...s, state: 'fresh' as const }
  );
}

/** Normal values per metric (percent; load per core; bytes/s). */
function normal(profile: string, metric: Metric): number {
  const n: Record<Metric, number> = { cpu: 28, memory: 55, disk: 48, iowait: 3, load: 0.45, network: 18e6 };
  if (profile === 'database' && metric === 'memory') {
    return 95;
  }
  if ((profile === 'web_api' || profile === 'data_ingest') && metric === 'network') {
    return 60e6;
  }
  return n[metric];
}

/** A smooth, deterministic wobble of ±1 (no randomness: the tests compare exact states). */
const wobble = (i: number, seed: number): number =>
  Math.sin(i * 0.37 + seed) * 0.6 + Math.sin(i * 0.11 + seed * 3) * 0.4;
const seedOf = (s: string): number => [...s].reduce((a, c) => a + c.charCodeAt(0), 0);

function scoreAt(s: ServerSpec, t: number): number {
  const ramp = (s.rampHours ?? 0) * 3600;
  const before = s.scoreBefore ?? s.score;
  const f = ramp > 0 ? Math.min(1, Math.max(0, (t - (NOW - ramp)) / ramp)) : 1;
  const v = before + (s.score - before) * f + (t < NOW ? wobble(t / STEP, seedOf(s.instance)) * 1.5 : 0);
  return Math.round(Math.max(0, Math.min(100, v)) * 100) / 100;
}

function valueAt(s: ServerSpec, metric: Metric, t: number): number {
  const base = normal(s.profile, metric);
  const w = wobble(t / STEP, seedOf(s.instance + metric));
  const spread = metric === 'network' ? base * 0.15 : metric === 'load' ? 0.08 : 3;
  let v = base + w * spread;
  if (s.driver?.metric === metric) {
    const ramp = (s.rampHours ?? 2) * 3600;
    const f = Math.min(1, Math.max(0, (t - (NOW - ramp)) / ramp));
    v = s.driver.before + (s.driver.now - s.driver.before) * f + w * 0.4;
  }
  return metric === 'network' || metric === 'load' ? Math.max(0, v) : Math.max(0, Math.min(100, v));
}

interface Forecast {
  readonly times: number[];
  readonly quantiles: Record<'10' | '50' | '90', number[]>;
}

function forecastOf(s: ServerSpec, metric: Metric): Forecast {
  const times = Array.from({ length: 96 }, (_, k) => NOW + (k + 1) * STEP);
  const now = valueAt(s, metric, NOW);
  const perHour = s.driver?.metric === metric ? s.driver.perHour : 0;
  const bounded = (v: number): number =>
    metric === 'network' || metric === 'load' ? Math.max(0, v) : Math.max(0, Math.min(100, v));
  const p50 = times.map((t) => bounded(now + (perHour * (t - NOW)) / 3600));
  const width = (t: number): number => {
    const h = (t - NOW) / 3600;
    return metric === 'network'
      ? normal(s.profile, metric) * (0.1 + 0.12 * Math.sqrt(h))
      : metric === 'load'
        ? 0.05 + 0.06 * Math.sqrt(h)
        : 1.5 + 2.2 * Math.sqrt(h);
  };
  return {
    times,
    quantiles: {
      '10': p50.map((v, k) => bounded(v - width(times[k]!))),
      '50': p50,
      '90': p50.map((v, k) => bounded(v + width(times[k]!))),
    },
  };
}

export type SourceJson = FleetSourceJson;

export const SOURCE_UP: SourceJson = {
  type: 'simulator',
  url: null,
  up: true,
  downSince: null,
  lastSuccess: NOW,
  error: null,
  clock: { speed: 60 },
};
export const SOURCE_DOWN: SourceJson = {
  type: 'prometheus',
  url: 'http://prometheus.example:9090',
  up: false,
  downSince: NOW + 120,
  lastSuccess: NOW,
  error: 'timeout: no answer from /api/v1/query_range within 30s',
  clock: null,
};

/** `/api/v1/fleet` for the specs (the shape the sidecar serves, with `source`). */
export function fleetJson(specs: readonly ServerSpec[], source: SourceJson = SOURCE_UP): unknown {
  return {
    origin: NOW,
    stale: !source.up,
    lastSuccess: source.lastSuccess,
    step: STEP,
    source,
    instances: specs.map((s) => {
      const n = s.ready === false ? 36 : 72;
      const until = s.state === 'stale' || s.state === 'unknown' ? (s.dataAt ?? NOW) : NOW;
      const known = s.state !== 'unknown';
      return {
        instance: s.instance,
        profile: s.profile,
        ready: s.ready ?? true,
        ...(s.state
          ? { state: s.state, stale: s.state !== 'fresh', dataAt: s.state === 'fresh' ? null : (s.dataAt ?? null) }
          : {}),
        ...(known
          ? {
              score: s.score,
              drivers: s.drivers ?? { [METRICS[seedOf(s.instance) % 6]!]: s.score },
              predicted: s.ready === false ? {} : (s.predicted ?? {}),
            }
          : { level: 3, severity: 'warning' }),
        // fresh cycles only: a stale or unknown server's recent scores end at its last good data
        recent: Array.from({ length: n }, (_, k) => {
          const t = NOW - (n - 1 - k) * STEP;
          return [t, scoreAt(s, t)];
        }).filter(([t]) => t! <= until),
        current: Object.fromEntries(METRICS.map((m) => [m, valueAt(s, m, NOW)])),
      };
    }),
  };
}

/** `/api/v1/instances/{instance}/forecast`: 24 h of history and the full-resolution forecast (none when not ready). */
export function forecastJson(specs: readonly ServerSpec[], instance: string): unknown {
  const s = specs.find((x) => x.instance === instance);
  if (!s) {
    return undefined;
  }
  const ready = s.ready ?? true;
  const points = ready ? 288 : 36;
  return {
    instance,
    profile: s.profile,
    ready,
    origin: NOW,
    step: STEP,
    percentiles: [10, 50, 90],
    metrics: Object.fromEntries(
      METRICS.map((m) => [
        m,
        {
          history: Array.from({ length: points }, (_, k) => {
            const t = NOW - (points - 1 - k) * STEP;
            return [t, valueAt(s, m, t)];
          }),
          forecast: ready && s.state !== 'unknown' ? forecastOf(s, m) : null,
        },
      ])
    ),
  };
}

interface Frame {
  name: string;
  length: number;
  fields: Array<{
    name: string;
    type: string;
    config: Record<string, never>;
    values: number[];
    labels?: Record<string, string>;
  }>;
}

export function frame(name: string, labels: Record<string, string>, times: number[], values: number[]): Frame {
  return {
    name,
    length: times.length,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: times.map((t) => t * 1000) },
      { name: 'Value', type: 'number', config: {}, labels: { __name__: name, ...labels }, values },
    ],
  };
}

/**
 * The frames the panel's queries return for the specs: risk (range), predicted risk, drivers and
 * readiness (instant), and for `coneInstances` the metric history (range) and forecasts by horizon
 * and percentile (instant); plus the self-monitoring series when `source` is given.
 */
export function frames(specs: readonly ServerSpec[], coneInstances: readonly string[], source?: SourceJson): Frame[] {
  const fleet = fleetJson(specs, source ?? SOURCE_UP) as {
    instances: Array<{
      instance: string;
      profile: string;
      ready: boolean;
      state?: 'fresh' | 'stale' | 'unknown';
      dataAt?: number | null;
      score?: number;
      recent: Array<[number, number]>;
      predicted?: Record<string, number>;
      drivers?: Record<string, number>;
    }>;
  };
  const out: Frame[] = [];
  for (const i of fleet.instances) {
    const base = { instance: i.instance, profile: i.profile };
    // /metrics keeps publishing a stale server's last good score every cycle; an unknown one's not at all
    const carried: Array<[number, number]> = [];
    if (i.state === 'stale' && i.score !== undefined) {
      for (let t = (i.recent[i.recent.length - 1]?.[0] ?? NOW - 6 * 3600) + STEP; t <= NOW; t += STEP) {
        carried.push([t, i.score]);
      }
    }
    const scores = [...i.recent, ...carried];
    out.push(
      frame(
        'foresight_risk_score',
        base,
        scores.map(([t]) => t),
        scores.map(([, v]) => v)
      )
    );
    if (i.state !== 'unknown') {
      out.push(frame('foresight_instance_ready', base, [NOW], [i.ready ? 1 : 0]));
    }
    if (i.state !== undefined) {
      // range queries: 0 while fresh, 1 from the first cycle after the last good data
      const times = Array.from({ length: 73 }, (_, k) => NOW - (72 - k) * STEP);
      const stale = (t: number): number => (i.state !== 'fresh' && t > (i.dataAt ?? -Infinity) ? 1 : 0);
      out.push(frame('foresight_instance_stale', base, times, times.map(stale)));
      out.push(
        frame(
          'foresight_instance_unknown',
          base,
          times,
          times.map((t) => (i.state === 'unknown' && t === NOW ? 1 : 0))
        )
      );
    }
    for (const [h, v] of Object.entries(i.predicted ?? {})) {
      out.push(frame('foresight_predicted_risk_score', { ...base, horizon: h }, [NOW], [v]));
    }
    for (const [d, v] of Object.entries(i.drivers ?? {})) {
      out.push(frame('foresight_risk_driver', { ...base, driver: d }, [NOW], [v]));
    }
  }
  for (const instance of coneInstances) {
    const f = forecastJson(specs, instance) as {
      profile: string;
      metrics: Record<string, { history: Array<[number, number]>; forecast: Forecast | null }>;
    };
    for (const [metric, m] of Object.entries(f.metrics)) {
      const base = { instance, profile: f.profile, metric };
      out.push(
        frame(
          'foresight_metric_value',
          base,
          m.history.map(([t]) => t),
          m.history.map(([, v]) => v)
        )
      );
      if (!m.forecast) {
        continue;
      }
      for (const [h, secs] of HORIZONS) {
        const k = m.forecast.times.indexOf(NOW + secs);
        for (const p of ['10', '50', '90'] as const) {
          out.push(
            frame('foresight_forecast', { ...base, horizon: h, percentile: p }, [NOW], [m.forecast.quantiles[p][k]!])
          );
        }
      }
    }
  }
  if (source) {
    const times = [NOW - 600, NOW - 300, NOW, NOW + 120, NOW + 300];
    out.push(
      frame(
        'foresight_source_up',
        {},
        times,
        times.map((t) => (source.up || (source.downSince !== null && t < source.downSince) ? 1 : 0))
      )
    );
    out.push(
      frame(
        'foresight_last_success_timestamp_seconds',
        {},
        times,
        times.map(() => source.lastSuccess ?? 0)
      )
    );
    out.push(frame('foresight_source_info', { type: source.type, url: source.url ?? '' }, [NOW + 300], [1]));
  }
  return out;
}
