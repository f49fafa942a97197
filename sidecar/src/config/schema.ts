/**
 * The sidecar's configuration (`foresight.yml`), parsed once, strictly, into a frozen object.
 * Every option is documented here with its default and unit; the reference table in docs/configuration.md is
 * generated from these descriptions (`npm run docs`).
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '@foresight/contract';
import { parseSize } from './size';
import type { MetricName, ProfileName } from '../profiles/profiles';
import { DEFAULT_THRESHOLDS, METRIC_NAMES, PROFILE_NAMES } from '../profiles/profiles';
import { SCENARIO_NAMES } from './scenarios';

/** Schemas that are durations, so the generated reference can say so. */
export const DURATION_SCHEMAS = new WeakSet<object>();
/** Schemas that are sizes in bytes, so the generated reference can say so. */
export const SIZE_SCHEMAS = new WeakSet<object>();

/** A string parsed to a positive number by `parse`; `examples` name the accepted form in the error. */
const parsedString = (what: string, parse: (text: string) => number | undefined, examples: string, kind: WeakSet<object>) => {
  const s = z
    .string()
    .transform((text, ctx) => {
      const v = parse(text);
      if (v === undefined || v <= 0) {
        ctx.addIssue({ code: 'custom', message: `must be ${examples} (got ${JSON.stringify(text)})` });
        return z.NEVER;
      }
      return v;
    })
    .describe(what);
  kind.add(s);
  return s;
};

/** A Prometheus duration string (30s, 5m, 1h30m), parsed to seconds. */
const duration = (what: string) => parsedString(what, parseDuration, 'a duration like 30s, 5m or 1h', DURATION_SCHEMAS);

/** A size like 128MiB (binary units B, KiB, MiB, GiB), parsed to bytes. */
const size = (what: string) => parsedString(what, parseSize, 'a size like 64MiB, 512KiB or 1GiB', SIZE_SCHEMAS);

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464 or :9464')
  .describe('Address the HTTP server listens on (host:port). Env: FORESIGHT_LISTEN.');

const tls = z
  .strictObject({
    ca_file: z.string().optional().describe('CA bundle (PEM) to verify the server.'),
    cert_file: z.string().optional().describe('Client certificate (PEM) for mutual TLS.'),
    key_file: z.string().optional().describe('Client key (PEM) for mutual TLS.'),
    insecure_skip_verify: z.boolean().default(false).describe('Do not verify the server certificate (testing only).'),
  })
  .describe('TLS toward Prometheus.');

const prometheus = z
  .strictObject({
    url: z
      .url()
      .describe('Base URL of a Prometheus-compatible query API (Prometheus, Thanos, Mimir with /prometheus, VictoriaMetrics). Env: FORESIGHT_PROMETHEUS_URL.'),
    timeout: duration(
      'Wall-clock limit of one request, its whole answer included: an answer still arriving then is cut off (reason timeout) and retried like any timeout.',
    ).prefault('30s'),
    retries: z.number().int().min(0).max(10).default(2).describe('Retries for errors a retry can fix (network, 5xx, 429, timeout), with exponential backoff.'),
    deadline: duration(
      "Wall-clock limit of one cycle's reads: every query, retry, backoff and answer body together. Queries not answered by then fail with reason timeout and the cycle goes on with what arrived (or fails as a whole). The default leaves room for the default timeout and retries.",
    ).prefault('2m'),
    max_answer_size: size(
      'Largest answer accepted from one request; a larger one is refused as it arrives (reason too_large) and its metric counts as failed. About 6 MiB per 1,000 instances of a 24 h window; the six queries run at once, so reads hold at most six times this.',
    ).prefault('128MiB'),
    max_instances: z
      .number()
      .int()
      .min(1)
      .default(10000)
      .describe(
        'Most instances (after sharding) one answer may carry; an answer with more is refused (reason too_many_instances) and its metric counts as failed. Shard past this.',
      ),
    basic_auth: z
      .strictObject({
        username: z.string().min(1).describe('Basic auth user name.'),
        password_file: z.string().min(1).describe('File holding the password (secrets only from files).'),
      })
      .optional()
      .describe('HTTP basic authentication.'),
    bearer_token_file: z.string().min(1).optional().describe('File holding a bearer token (e.g. a service-account token).'),
    tls: tls.optional(),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. X-Scope-OrgID for Mimir tenants. Not for secrets.'),
  })
  .refine((p) => !(p.basic_auth && p.bearer_token_file), { message: 'basic_auth and bearer_token_file cannot both be set', path: ['bearer_token_file'] })
  .describe('Where metrics are read from (read-only: only /api/v1/query_range is called).');

const simulator = z
  .strictObject({
    fleet: z.string().optional().describe('Fleet as profile=count,… (default: the 20-server demo fleet).'),
    servers: z.number().int().min(1).max(100000).optional().describe('Fleet of this many servers in the default mix (instead of fleet).'),
    seed: z.number().int().min(0).default(1).describe('Random seed of the simulated fleet.'),
    scenario: z.enum(SCENARIO_NAMES).default('healthy').describe('Starting scenario; switch at run time with POST /simulator/scenario.'),
    history: duration('History the simulated fleet starts with.').prefault('2d'),
    build_up: duration(
      'How long the degrading and critical scenarios take to build up after a switch (default: 40m and 15m, as in `foresight simulate`). The embedded default uses 4h: a stress that builds over hours is what a forecast can see coming.',
    ).optional(),
    speed: z
      .number()
      .min(1)
      .max(3600)
      .default(1)
      .describe(
        'Simulated seconds per wall-clock second: 60 runs a 5-minute cycle every 5 s and shows an hour of the fleet in a minute. 1 is real time. The embedded default (no config) runs at 60; a Prometheus source always runs on real time.',
      ),
  })
  .describe('The built-in simulated fleet (the embedded default).');

const source = z
  .strictObject({
    type: z.enum(['prometheus', 'simulator']).default('prometheus').describe('prometheus: query a real server; simulator: the built-in fleet.'),
    step: duration('Resolution of the history read; must equal the model step.').prefault('5m'),
    interval: duration(
      'Run a cycle this often instead of once per step (aligned to the step). Shorter re-reads the same window; for tests and demos.',
    ).optional(),
    delay: duration('Wait this long after each step boundary before reading, so the latest scrape has landed.').prefault('10s'),
    staleness: duration(
      'A metric of a server is stale when the newest data behind it may be this old: each point of the step grid stands for the step of samples before it, so with step 5m and staleness 10m one missing point at the forecast origin makes it stale. Default: two steps.',
    ).optional(),
    keep_stale: duration(
      'How long a server whose data is missing, partial, stale or invalid keeps its last good forecasts and risk, published with foresight_instance_stale 1; after that it is unknown (docs/operations.md, "When data goes missing or bad").',
    ).prefault('30m'),
    forget_after: duration(
      'An unknown server is dropped from every series this long after its last good data (a decommissioned host); until then foresight_severity_level keeps its last level so alerts do not resolve on missing data.',
    ).prefault('24h'),
    prometheus: prometheus.optional(),
    simulator: simulator.prefault({}),
  })
  .superRefine((s, ctx) => {
    if (s.type === 'prometheus' && !s.prometheus)
      ctx.addIssue({
        code: 'custom',
        message: 'required when source.type is prometheus (the default in a config file; source.type: simulator for the built-in fleet)',
        path: ['prometheus'],
      });
    if (s.staleness !== undefined && s.staleness < 2 * s.step) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at least two steps (got ${formatDuration(s.staleness)}, step ${formatDuration(s.step)})`,
        path: ['staleness'],
      });
    }
    if (s.forget_after < s.keep_stale) {
      ctx.addIssue({
        code: 'custom',
        message: `must not be shorter than source.keep_stale (got ${formatDuration(s.forget_after)}, keep_stale ${formatDuration(s.keep_stale)})`,
        path: ['forget_after'],
      });
    }
  })
  .describe('Where history comes from.');

const metricsOverride = z
  .strictObject(
    Object.fromEntries(
      METRIC_NAMES.map((m) => [m, z.strictObject({ expr: z.string().min(1).describe(`PromQL for ${m}: one series per instance label.`) }).optional()]),
    ) as Record<(typeof METRIC_NAMES)[number], z.ZodOptional<z.ZodObject<{ expr: z.ZodString }>>>,
  )
  .prefault({})
  .describe('Override the default PromQL of any of the six metrics (docs/configuration.md, "Default metrics").');

const model = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .default('models/foresight-tft')
      .describe('Directory with model.onnx and model.json (relative to the repository root or absolute). Env: FORESIGHT_MODEL.'),
    device: z
      .enum(['auto', 'cuda', 'cpu'])
      .default('auto')
      .describe('auto: CUDA if it can be created, else CPU (reason logged); cuda: fail if unavailable; cpu.'),
    workers: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(2)
      .describe(
        'Inference worker threads, each with its own copy of the model, running batches in parallel (on CPU, workers × threads ≈ the cores the sidecar may use; with CUDA one worker is used). Several 1-thread workers beat one worker with several threads on this model.',
      ),
    threads: z.number().int().min(1).max(256).default(1).describe('ONNX Runtime intra-op threads per worker.'),
    cuda: z
      .strictObject({
        device_id: z.number().int().min(0).max(63).default(0).describe('Which GPU (as nvidia-smi numbers them; CUDA_VISIBLE_DEVICES applies first).'),
      })
      .prefault({})
      .describe(
        'CUDA execution provider options. onnxruntime-node 1.23 exposes only the device id: no GPU memory limit or arena setting can be passed through it; the bench reports peak GPU memory.',
      ),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(65536)
      .default(8)
      .describe(
        'Rows per inference call: series for a contract-1 model, servers (all six series in one pass) for a contract-2 model (CPU: the shipped contract-2 model is fastest at 4-8 servers per call, see npm run bench -- --inference; a contract-1 model at 16-32 series; a GPU wants hundreds or thousands).',
      ),
  })
  .describe('The forecasting model.');

const forecast = z
  .strictObject({
    horizons: z
      .array(z.string())
      .min(1)
      .default(['30m', '1h', '2h', '3h', '4h', '6h', '8h'])
      .describe(
        "Horizons forecast and scored (the horizon label), up to the model's decoder length. Cost per server: one foresight_predicted_risk_score series per horizon, plus 18 for each horizon foresight_forecast is published at (exporter.forecast_horizons).",
      ),
    percentiles: z
      .array(z.number().gt(0).lt(100))
      .min(1)
      .default([10, 50, 90])
      .describe(
        'Percentiles published (the percentile label); each must be a quantile the model produces. Cost per server: 6 series (one per metric) per percentile at each horizon foresight_forecast is published at, and 6 more where it is one of exporter.time_to_breach_percentiles.',
      ),
    min_history: duration(
      'A metric is forecast once this much of its 5-minute history is present in what the model reads (contract 1: its 24 h encoder; contract 2: a day plus its encoder, 30 h, and it was trained on hosts with as little as its 6 h encoder, so a lower value can be set for it); until every metric is, foresight_instance_ready is 0.',
    ).prefault('19h'),
    calibration_series: z.number().int().min(0).default(500).describe('At most this many series (the first seen) are tracked for live calibration.'),
  })
  .describe('What is forecast and published.');

const exporter = z
  .strictObject({
    full: z
      .boolean()
      .default(false)
      .describe(
        'Publish every series: foresight_forecast at every horizon × percentile (126 series per server with the default six metrics, seven horizons and three percentiles), foresight_time_to_breach_seconds at every percentile (18) and every driver (at most 5). Full: 162 series per server plus one per driver; by default at most 51 (docs/architecture.md "Series and cardinality"). Cannot be combined with the three keys below.',
      ),
    forecast_horizons: z
      .array(z.string())
      .optional()
      .describe(
        'Horizons at which foresight_forecast is published, each one of forecast.horizons (foresight_predicted_risk_score is always published at all of them). Default: the longest of forecast.horizons (8h), the end of the cones. Cost per server: one series per metric and percentile for each horizon, 18 with the defaults (all seven horizons: 126).',
      ),
    time_to_breach_percentiles: z
      .array(z.number())
      .optional()
      .describe(
        'Percentiles at which foresight_time_to_breach_seconds is published, each one of forecast.percentiles. Default: 50 and 90 (those of them in forecast.percentiles): the rules read p50, the server dashboard p50 and p90. Cost per server: 6 series per percentile (one per metric).',
      ),
    drivers: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "The largest drivers of each server published as foresight_risk_driver, at most this many. Default: 3, as many as the panel's tooltip shows (the rules and dashboards read the top one). Cost per server: one series per driver contributing points, at most 5.",
      ),
  })
  .superRefine((e, ctx) => {
    if (!e.full) return;
    for (const key of ['forecast_horizons', 'time_to_breach_percentiles', 'drivers'] as const) {
      if (e[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'cannot be combined with exporter.full (full publishes everything)' });
    }
  })
  .prefault({})
  .describe(
    'Which series /metrics publishes per server (the cardinality budget): by default at most 51, what the shipped rules, dashboards and panel read; the rest on request.',
  );

const profiles = z
  .strictObject({
    rules: z
      .array(
        z.strictObject({ pattern: z.string().min(1).describe('Regular expression on instance.'), profile: z.enum(PROFILE_NAMES).describe('Profile to use.') }),
      )
      .optional()
      .describe(
        'Ordered instance rules (first match wins); default: ^ppml → ml_compute, ^ppdb → database, ^ppweb → web_api, ^ppcon → conductor_mgmt, ^ppdi → data_ingest, ^ppra → risk_analytics; otherwise generic.',
      ),
    label_query: z
      .string()
      .default('group by (instance, profile) (up{profile!=""})')
      .describe(
        "Instant query whose series carry `instance` and `profile` labels (e.g. a target label set in Prometheus' scrape config); a `profile` naming one of the seven profiles wins over `rules`. Empty: instance rules only.",
      ),
    thresholds: z
      .partialRecord(
        z.enum(PROFILE_NAMES),
        z.partialRecord(
          z.enum(METRIC_NAMES),
          z.strictObject({
            warning: z.number().optional(),
            critical: z.number().optional(),
            weight: z.number().min(0).max(1).optional(),
          }),
        ),
      )
      .optional()
      .describe(
        'Overrides of the default thresholds, per profile and metric (e.g. `database: {iowait: {warning: 10, critical: 20}}`): warning and critical in the metric\'s unit (percent; load1 per core; bytes/s), weight 0–1. Anything not named keeps its default (docs/risk.md, "Profiles"); warning must stay below critical.',
      ),
  })
  .prefault({})
  .describe('How instances get their profile.');

const sharding = z
  .strictObject({
    total: z.number().int().min(1).default(1).describe('Number of replicas sharing the fleet.'),
    index: z.number().int().min(0).default(0).describe('This replica (0-based); instances with hash(instance) mod total = index are its own.'),
  })
  .refine((s) => s.index < s.total, { message: 'must be less than sharding.total', path: ['index'] })
  .prefault({})
  .describe('Split the fleet across replicas by a stable hash of instance.');

export const ConfigSchema = z
  .strictObject({
    listen: listen.default('127.0.0.1:9464'),
    shutdown_timeout: duration(
      'On SIGTERM/SIGINT the sidecar aborts the cycle in flight (its reads included), closes its listener and releases the model; it exits with status 0 at the latest this long after the signal, whatever is still running. Read at start (a reload does not change it).',
    ).prefault('10s'),
    source: source.prefault({}),
    metrics: metricsOverride,
    model: model.prefault({}),
    forecast: forecast.prefault({}),
    exporter,
    profiles,
    sharding,
  })
  .superRefine((c, ctx) => {
    c.forecast.horizons.forEach((h, i) => {
      const s = parseDuration(h);
      if (s === undefined || s <= 0) {
        ctx.addIssue({ code: 'custom', path: ['forecast', 'horizons', i], message: `must be a duration like 30m or 2h (got ${JSON.stringify(h)})` });
      } else if (s % c.source.step !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['forecast', 'horizons', i],
          message: `must be a multiple of source.step (got ${h}, step ${formatDuration(c.source.step)})`,
        });
      }
    });
    for (const [profile, metrics] of Object.entries(c.profiles.thresholds ?? {})) {
      for (const [metric, o] of Object.entries(metrics ?? {})) {
        const d = DEFAULT_THRESHOLDS[profile as ProfileName][metric as MetricName];
        const warning = o?.warning ?? d.warning;
        const critical = o?.critical ?? d.critical;
        if (!(warning < critical)) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', 'thresholds', profile, metric, o?.critical === undefined ? 'warning' : 'critical'],
            message: `warning (${warning}) must be below critical (${critical})`,
          });
        }
      }
    }
    if (new Set(c.forecast.percentiles).size !== c.forecast.percentiles.length) {
      ctx.addIssue({ code: 'custom', path: ['forecast', 'percentiles'], message: 'must not repeat a percentile' });
    }
    const listed = <T>(key: 'forecast_horizons' | 'time_to_breach_percentiles', values: readonly T[] | undefined, allowed: readonly T[], of: string): void => {
      values?.forEach((v, i) => {
        if (!allowed.includes(v)) {
          ctx.addIssue({
            code: 'custom',
            path: ['exporter', key, i],
            message: `must be one of ${of} (got ${JSON.stringify(v)}; ${of}: ${allowed.join(', ')})`,
          });
        } else if (values.indexOf(v) !== i) {
          ctx.addIssue({ code: 'custom', path: ['exporter', key, i], message: `repeats ${JSON.stringify(v)}` });
        }
      });
    };
    listed('forecast_horizons', c.exporter.forecast_horizons, c.forecast.horizons, 'forecast.horizons');
    listed('time_to_breach_percentiles', c.exporter.time_to_breach_percentiles, c.forecast.percentiles, 'forecast.percentiles');
  })
  .describe('foresight.yml');

export type Config = z.output<typeof ConfigSchema>;
