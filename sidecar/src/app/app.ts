/**
 * The sidecar as a handle: `createApp(config)` wires source → forecast → (risk) → exporter and
 * the HTTP API; `start` runs the first cycle and schedules the next ones aligned to the step,
 * never overlapping; `stop` undoes start-up in reverse order, bounded in time, idempotent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load';
import { ConfigError, loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { formatDuration } from '../config/duration';
import type { ModelManifest } from '../forecast/manifest';
import { loadModelFiles } from '../forecast/manifest';
import type { ServingContract } from '../forecast/contract';
import { servingContract } from '../forecast/contract';
import type { InferenceRunner } from '../forecast/runner';
import { startInferenceRunner } from '../forecast/runner';
import type { ForecastOptions, ForecastResult } from '../forecast/forecaster';
import { forecastWindow } from '../forecast/forecaster';
import { Calibration } from '../forecast/calibration';
import type { HorizonSpec, PercentileSpec } from '../forecast/horizons';
import { publicationSpecs } from '../forecast/horizons';
import type { ForecastSnapshot, InstanceState, SelfState } from '../exporter/exposition';
import { renderForecastsAsync, renderSelf } from '../exporter/exposition';
import { CYCLE_BUCKETS } from '../exporter/metrics';
import type { MetricName } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import { profileMatcher } from '../profiles/match';
import type { ProfileOf } from '../profiles/match';
import { METRICS } from '../source/promql';
import type { HistorySource, HistoryWindow } from '../source/source';
import { SOURCE_ERROR_REASONS, SourceError } from '../source/source';
import { DROP_REASONS } from '../source/validate';
import type { CycleResult, FreshnessOptions } from './freshness';
import { Freshness } from './freshness';
import { PrometheusSource } from '../source/prometheus';
import { SimulatorSource } from '../source/simulator';
import { inShard } from '../source/sharding';
import { Simulation } from '../simulator/simulation';
import { DEFAULT_FLEET, parseFleetSpec, scaleFleet } from '../simulator/fleet';
import { ReloadInProgressError, startApiServer } from '../api/server';
import { gzip, gzipSync } from 'node:zlib';
import { assessFleet } from '../risk/assess';
import type { InstanceRisk } from '../risk/assess';
import { LEVELS } from '../risk/levels';
import type { FleetThresholds } from '../profiles/profiles';
import { resolveThresholds } from '../profiles/profiles';
import type { ApiServer } from '../api/server';
import type { Clock } from './clock';
import { createClock } from './clock';
import { pastRisk } from './backfill';
import type { Log } from './log';
import { logfmtLogger } from './log';
import { Cleanups, CycleAborted, settlesWithin } from './lifecycle';

export const VERSION = '0.1.0';

export interface AppOptions {
  readonly loaded: LoadedConfig;
  /** The file to re-read on reload; undefined for the embedded default. */
  readonly configFile?: string | undefined;
  /** Where relative model paths are looked up when not found from the working directory. */
  readonly repoRoot: string;
  /** A driven clock (tests, bench, eval); default: real time, or the simulator's `speed`. */
  readonly now?: () => number;
  /** Where events go, with their level; default: logfmt lines on stderr. */
  readonly log?: Log;
  /** Environment for config reloads. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface App {
  /** Reads nothing until called; resolves once the first cycle is done, or early (without error) when stop() was called meanwhile. */
  start(): Promise<void>;
  /**
   * Aborts the cycle in flight (its source read included), then undoes start-up in reverse order:
   * the timer, the HTTP listener (open connections closed), the model and the source. Each step is
   * bounded, so stop() settles within a few seconds whatever is running. Idempotent.
   */
  stop(): Promise<void>;
  /** http://host:port once started. */
  address(): string;
  /**
   * Re-reads config and model; on any error keeps the old ones and rejects with the reason.
   * One reload at a time: while one runs, another is refused with ReloadInProgressError.
   */
  reload(): Promise<void>;
  /** A reload for SIGHUP: runs now, or, when one is running, once more after it (requests made meanwhile collapse into one). */
  requestReload(): void;
  /** Runs one cycle now (tests and the bench). */
  runCycle(): Promise<void>;
  /** What is being served (for the start banner); undefined before start. */
  describe(): AppDescription | undefined;
}

/** Where the sidecar reads from, and how that read is going (the fleet JSON's `source`). */
export interface SourceState {
  readonly type: 'simulator' | 'prometheus';
  /** Base URL without credentials; null for the simulator. */
  readonly url: string | null;
  /** False while the last read failed (wholly or for some metrics). */
  readonly up: boolean;
  /** Unix seconds (wall clock) of the first failed read of the current outage. */
  readonly downSince: number | null;
  /** Unix seconds (wall clock) of the last successful cycle. */
  readonly lastSuccess: number | null;
  /** The last source error while down. */
  readonly error: string | null;
  /** Simulator only: simulated seconds per wall-clock second. */
  readonly clock: { readonly speed: number } | null;
}

export interface AppDescription {
  readonly address: string;
  readonly source: SourceState;
  /** Simulator only: servers in the simulated fleet (this shard's and others'). */
  readonly simulatedServers: number | undefined;
  /** Simulator only: a server of the fleet, for example commands. */
  readonly exampleInstance: string | undefined;
  /** Seconds of data between cycles (the step, or source.interval). */
  readonly cycleSeconds: number;
  /** Wall-clock seconds between cycles. */
  readonly cycleWallSeconds: number;
}

/** The source's base URL as it may be shown: scheme, host, port and path; never credentials or query. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Everything a config + model produce; swapped as a whole on reload. */
export interface Runtime {
  readonly config: Config;
  readonly manifest: ModelManifest;
  /** How the model is fed (its model.json contract version): what the source reads for it. */
  readonly contract: ServingContract;
  readonly modelDir: string;
  readonly runner: InferenceRunner;
  readonly source: HistorySource;
  /** The embedded simulator; undefined with Prometheus as the source. */
  readonly simulation: Simulation | undefined;
  readonly horizons: readonly HorizonSpec[];
  readonly percentiles: readonly PercentileSpec[];
  readonly profileOf: ProfileOf;
  /** Default thresholds with the config's profiles.thresholds applied. */
  readonly thresholds: FleetThresholds;
  readonly calibration: Calibration;
}

/** The data-freshness limits of a config (source.staleness defaults to two steps). */
export function freshnessOptions(config: Config): FreshnessOptions {
  const { step, staleness, keep_stale, forget_after } = config.source;
  return { step, staleness: staleness ?? 2 * step, keepStale: keep_stale, forgetAfter: forget_after };
}

/** What the forecast stage needs from a runtime (the sidecar's cycle and eval:risk use the same). */
export function forecastOptions(rt: Runtime): ForecastOptions {
  return {
    manifest: rt.manifest,
    runner: rt.runner,
    profileOf: rt.profileOf,
    minHistoryPoints: Math.ceil(rt.config.forecast.min_history / rt.config.source.step),
    batchSize: rt.config.model.batch_size,
    criticalOf: (profile, metric) => rt.thresholds[profile][metric].critical,
  };
}

/** What a cycle reads for the model: the 5-minute history, and the contract's coarser context read if it has one. */
export interface ModelReads {
  readonly window: HistoryWindow;
  /** The context read (contract 2: a week of hourly samples); undefined without one, or when it failed. */
  readonly context: HistoryWindow | undefined;
  /** Why the context read failed entirely (the forecast then runs with that context masked as missing). */
  readonly contextError: SourceError | undefined;
}

/**
 * Reads what the runtime's model needs at `end`: the history (throws SourceError when nothing
 * could be read) and, at the same time, the context, whose failure only masks it.
 */
export async function readForModel(rt: Runtime, end: number): Promise<ModelReads> {
  const c = rt.contract.context;
  // both reads at once; the context's outcome is settled here, so a failed history read leaves no unhandled rejection
  const contextRead = c
    ? rt.source.fetch(end, c.length, c.stepSeconds, { profiles: false }).then(
        (context) => ({ context, contextError: undefined }),
        (e: unknown) => ({ context: undefined, contextError: e instanceof Error ? e : new Error('context read failed', { cause: e }) }),
      )
    : Promise.resolve({ context: undefined, contextError: undefined });
  const window = await rt.source.fetch(end, rt.contract.historyLength, rt.config.source.step);
  const { context, contextError } = await contextRead;
  if (contextError !== undefined && !(contextError instanceof SourceError)) throw contextError;
  return { window, context, contextError };
}

function resolveModelDir(p: string, repoRoot: string): string {
  if (path.isAbsolute(p)) return p;
  const fromCwd = path.resolve(p);
  return existsSync(fromCwd) ? fromCwd : path.resolve(repoRoot, p);
}

export async function createRuntime(loaded: LoadedConfig, repoRoot: string, now: number): Promise<Runtime> {
  const { config, secrets, origin } = loaded;
  const modelDir = resolveModelDir(config.model.path, repoRoot);
  const { manifest } = await loadModelFiles(modelDir);
  const { horizons, percentiles } = publicationSpecs(config, manifest, origin);
  const accept = (instance: string): boolean => inShard(instance, config.sharding.total, config.sharding.index);
  let source: HistorySource;
  let simulation: Runtime['simulation'];
  if (config.source.type === 'simulator') {
    const s = config.source.simulator;
    const fleet = s.fleet !== undefined ? parseFleetSpec(s.fleet) : s.servers !== undefined ? scaleFleet(s.servers) : DEFAULT_FLEET;
    const sim = new Simulation({ fleet, seed: s.seed, scenario: s.scenario, buildUpSeconds: s.build_up });
    source = new SimulatorSource(sim, now - s.history, accept);
    simulation = sim;
  } else {
    const queries = Object.fromEntries(METRIC_NAMES.map((m) => [m, config.metrics[m]?.expr ?? METRICS[m].expr])) as Record<MetricName, string>;
    source = new PrometheusSource({ config: config.source.prometheus!, secrets, queries, accept, ...(config.profiles.label_query ? { profileQuery: config.profiles.label_query } : {}) });
  }
  // the model loads last: its worker is the most expensive thing to undo
  const runner = await startInferenceRunner(modelDir, {
    device: config.model.device,
    threads: config.model.threads,
    workers: config.model.workers,
    cudaDeviceId: config.model.cuda.device_id,
  });
  return {
    config,
    manifest,
    contract: servingContract(manifest),
    modelDir,
    runner,
    source,
    simulation,
    horizons,
    percentiles,
    profileOf: profileMatcher(config.profiles.rules),
    thresholds: resolveThresholds(config.profiles.thresholds),
    calibration: new Calibration(horizons, manifest.quantiles, config.source.step, config.forecast.calibration_series),
  };
}

/**
 * Live calibration survives a reload when it measures the same thing: the same horizons (label
 * and step index), quantiles and step. Otherwise the new runtime starts it afresh.
 */
function carryCalibration(from: Runtime, to: Runtime): Runtime {
  const same =
    from.config.source.step === to.config.source.step &&
    JSON.stringify(from.horizons) === JSON.stringify(to.horizons) &&
    JSON.stringify(from.manifest.quantiles) === JSON.stringify(to.manifest.quantiles);
  if (!same) return to;
  to.calibration.adopt(from.calibration);
  return to;
}

async function disposeRuntime(r: Runtime): Promise<void> {
  await r.runner.stop();
  r.source.close?.();
}

/** The clock a config runs on: the simulator's speed (Prometheus: real time), or a driven one (tests) at that speed. */
function clockFor(config: Config, driven: (() => number) | undefined): Clock {
  const clock = createClock(config.source.type === 'simulator' ? config.source.simulator.speed : 1);
  return driven ? { ...clock, now: driven } : clock;
}

export function createApp(opts: AppOptions): App {
  const clock = clockFor(opts.loaded.config, opts.now);
  const now = (): number => clock.now();
  const log: Log = opts.log ?? logfmtLogger((line) => void process.stderr.write(line));
  let runtime: Runtime | undefined;
  let api: ApiServer | undefined;
  let snapshot: ForecastSnapshot | undefined;
  // rendered once per cycle: /metrics only concatenates, so it stays fast while a cycle runs
  let forecastText: readonly Buffer[] = [];
  // forecastText gzip-encoded once per cycle (off the event loop), for the scrapes that ask for gzip
  let forecastGzip: { readonly text: readonly Buffer[]; readonly gz: Buffer } | undefined;
  const encodeForecasts = (text: readonly Buffer[]): void => {
    gzip(Buffer.concat(text), { level: 6 }, (err, gz) => {
      if (!err && forecastText === text) forecastGzip = { text, gz };
    });
  };
  let lastWindow: HistoryWindow | undefined;
  // the last RECENT_CYCLES risk scores per instance, for the preview page's past heatmap columns
  const recentRisk = new Map<string, Array<[number, number]>>();
  let lastSuccess: number | undefined;
  let sourceUp = false;
  let downSince: number | undefined;
  let sourceError: string | undefined;
  let cycling: Promise<void> | undefined;
  // owned by the cycle in flight: aborted (with the source's reads) by shutdown and reload
  let cycleAbort: AbortController | undefined;
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  let starting: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const cleanups = new Cleanups();
  // failed operations (a query, a cycle's inference, a reload): one count per failure
  const errors = new Map<string, number>();
  // samples dropped by the value checks, by metric|reason (per sample, apart from the per-read errors)
  const dropped = new Map<string, number>(METRIC_NAMES.flatMap((m) => DROP_REASONS.map((r) => [`${m}|${r}`, 0] as const)));
  // series whose forecast could not be made, by reason (per series and cycle)
  const droppedForecasts = new Map<string, number>();
  // each server's last good result, carried over (marked stale) while its data is missing
  const freshness = new Freshness(freshnessOptions(opts.loaded.config));
  const previousLevels = new Map<string, number>();
  const durations = new Map<string, { buckets: number[]; sum: number; count: number }>();
  const listeners = new Set<(event: unknown) => void>();

  const countError = (stage: string, reason: string, n = 1): void => void errors.set(`${stage}|${reason}`, (errors.get(`${stage}|${reason}`) ?? 0) + n);
  for (const [stage, reasons] of [['source', SOURCE_ERROR_REASONS], ['forecast', ['inference']], ['reload', ['config', 'model']]] as const) {
    for (const r of reasons) errors.set(`${stage}|${r}`, 0);
  }
  for (const r of ['inference', 'nan_output']) droppedForecasts.set(r, 0);
  const add = (counts: Map<string, number>, key: string, n: number): void => void counts.set(key, (counts.get(key) ?? 0) + n);
  const observe = (stage: string, seconds: number): void => {
    const h = durations.get(stage) ?? { buckets: CYCLE_BUCKETS.map(() => 0), sum: 0, count: 0 };
    CYCLE_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
    durations.set(stage, h);
  };

  /** A failed cycle, for /api/v1/stream subscribers (the log says the same in words). */
  const emitFailed = (origin: number, stage: string, reason: string, error: string): void => {
    const event = { type: 'cycle_failed', origin, stage, reason, error, keeping: snapshot ? snapshot.origin : null };
    for (const l of listeners) l(event);
  };

  async function cycle(signal: AbortSignal): Promise<void> {
    const rt = runtime;
    if (!rt) return;
    // every await below is a point where a shutdown or reload may have aborted the cycle
    const check = (): void => {
      if (signal.aborted) throw signal.reason;
    };
    const t0 = performance.now();
    const step = rt.config.source.step;
    const end = Math.floor(now() / step) * step;
    freshness.configure(freshnessOptions(rt.config));
    let window: HistoryWindow;
    let context: HistoryWindow | undefined;
    try {
      const read = await readForModel(rt, end);
      window = read.window;
      context = read.context;
      check();
      if (read.contextError) {
        countError('source', read.contextError.reason);
        log(`source: ${formatDuration(rt.contract.context!.stepSeconds)}-step context read: ${read.contextError.message}; forecasting with that context masked as missing`, 'warn');
      }
      for (const f of context?.failed ?? []) {
        countError('source', f.error.reason);
        log(`source: ${f.metric} (${formatDuration(context!.step)}-step context read): ${f.error.message}; forecasting with it masked as missing`, 'warn');
      }
      for (const [metric, byReason] of Object.entries(context?.dropped ?? {})) {
        for (const [reason, n] of Object.entries(byReason ?? {})) if (n) dropped.set(`${metric}|${reason}`, (dropped.get(`${metric}|${reason}`) ?? 0) + n);
      }
    } catch (e) {
      check();
      if (e instanceof SourceError) {
        markDown(e.message);
        countError('source', e.reason);
        log(
          `cycle ${clockTime(end)}: ${rt.source.description} down since ${clockTime(downSince!, true)}: ${e.message}${e.retryable ? ' (will retry next cycle)' : ''}${snapshot ? `; keeping the last good forecasts, marked stale` : '; no forecasts yet'}`,
          'warn',
        );
        emitFailed(end, 'source', e.reason, e.message);
        await carryOver(rt, end);
        return;
      }
      sourceUp = false;
      throw e;
    }
    const t1 = performance.now();
    observe('source', (t1 - t0) / 1000);
    if (window.failed.length === 0) {
      sourceUp = true;
      downSince = undefined;
      sourceError = undefined;
    } else {
      markDown(`${window.failed[0]!.metric}: ${window.failed[0]!.error.message}`);
    }
    for (const f of window.failed) {
      countError('source', f.error.reason);
      log(`source: ${f.metric}: ${f.error.message}`, 'warn');
    }
    for (const [metric, byReason] of Object.entries(window.dropped)) {
      for (const [reason, n] of Object.entries(byReason ?? {})) if (n) dropped.set(`${metric}|${reason}`, (dropped.get(`${metric}|${reason}`) ?? 0) + n);
    }
    rt.calibration.observe(window);
    let result: ForecastResult;
    try {
      result = await forecastWindow(window, forecastOptions(rt), context);
      check();
    } catch (e) {
      check();
      countError('forecast', 'inference');
      const msg = e instanceof Error ? e.message : String(e);
      log(`forecast: ${msg}; keeping the last good forecasts, marked stale`, 'error');
      emitFailed(end, 'forecast', 'inference', msg);
      await carryOver(rt, window.end);
      return;
    }
    for (const [reason, n] of Object.entries(result.errors)) add(droppedForecasts, reason, n);
    if (result.errors['inference']) countError('forecast', 'inference');
    const t2 = performance.now();
    observe('forecast', (t2 - t1) / 1000);
    rt.calibration.record(result);
    // scored in slices with the event loop given back in between: /metrics stays responsive on large fleets
    const risk = new Map<string, InstanceRisk>();
    for (let k = 0; k < result.instances.length; k += 100) {
      for (const [i, r] of assessFleet(window, result.instances.slice(k, k + 100), (p) => rt.thresholds[p], rt.manifest.quantiles, rt.horizons, previousLevels)) risk.set(i, r);
      await new Promise((r) => setImmediate(r));
      check();
    }
    observe('risk', (performance.now() - t2) / 1000);
    // servers whose data is missing, partial, stale or invalid keep their last good result (stale), then are unknown
    const results = new Map<string, CycleResult>(result.instances.map((i) => [i.instance, { forecast: i, risk: risk.get(i.instance) }]));
    const next = publication(rt, result.origin, window, results);
    const text = await renderForecastsAsync(next);
    check();
    // instances seen for the first time (all of them at start): their past columns come from the
    // history just read, scored on state alone (no forecast was made back then); filled in after
    // this cycle's forecasts are published (5,000 instances take seconds)
    const fresh = result.instances.filter((i) => !recentRisk.has(i.instance));
    // steps skipped since an instance's previous cycle (a cycle that outran the step, or a source
    // outage) are scored the same way, so the past shows no hole where history exists
    const gapFrom = new Map<string, number>();
    for (const i of result.instances) {
      const list = recentRisk.get(i.instance);
      const last = list?.[list.length - 1]?.[0];
      if (last !== undefined && result.origin - last > step) gapFrom.set(i.instance, last);
    }
    // swapped together: /metrics and the API never mix two cycles
    snapshot = next;
    forecastText = text;
    encodeForecasts(text);
    // past scores only from fresh data: a stale or unknown cycle leaves a gap, not a copy
    for (const i of next.instances) {
      const r = next.risk.get(i.instance);
      const list = recentRisk.get(i.instance) ?? [];
      if (r && next.states?.get(i.instance)?.state === 'fresh' && (list.length === 0 || list[list.length - 1]![0] < result.origin)) list.push([result.origin, Math.round(r.score * 100) / 100]);
      if (list.length > RECENT_CYCLES) list.splice(0, list.length - RECENT_CYCLES);
      // a server never scored yet stays out, so its past is filled from history once it is
      if (list.length > 0) recentRisk.set(i.instance, list);
    }
    for (const instance of recentRisk.keys()) if (!next.states?.has(instance)) recentRisk.delete(instance);
    lastWindow = window;
    // wall-clock time (not the data clock): alerts compare it with Prometheus' time()
    lastSuccess = Date.now() / 1000;
    if (fresh.length > 0) {
      const past = await pastRisk(window, fresh, (p) => rt.thresholds[p], RECENT_CYCLES - 1);
      for (const [instance, older] of past) {
        const list = recentRisk.get(instance);
        if (list) list.unshift(...older.filter(([t]) => t < (list[0]?.[0] ?? Infinity)));
      }
    }
    if (gapFrom.size > 0) {
      const oldest = Math.min(...gapFrom.values());
      const steps = Math.min(RECENT_CYCLES - 1, Math.round((result.origin - oldest) / step) - 1);
      const gapped = result.instances.filter((i) => gapFrom.has(i.instance));
      const past = await pastRisk(window, gapped, (p) => rt.thresholds[p], steps);
      for (const [instance, missed] of past) {
        const list = recentRisk.get(instance);
        const after = gapFrom.get(instance)!;
        const fill = missed.filter(([t]) => t > after && t < result.origin);
        if (!list || fill.length === 0) continue;
        const at = list.findIndex(([t]) => t > after);
        list.splice(at < 0 ? list.length : at, 0, ...fill);
        if (list.length > RECENT_CYCLES) list.splice(0, list.length - RECENT_CYCLES);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    observe('total', seconds);
    const ready = result.instances.filter((i) => i.ready).length;
    const notFresh = [...(next.states?.values() ?? [])].filter((st) => st.state !== 'fresh');
    let worst: [string, InstanceRisk] | undefined;
    for (const e of next.risk) if (!worst || e[1].level > worst[1].level || (e[1].level === worst[1].level && e[1].score > worst[1].score)) worst = e;
    log(
      `cycle ${clockTime(result.origin)}: ${result.instances.length} instances (${ready} ready) in ${seconds.toFixed(2)} s, ` +
        `worst ${worst ? `${LEVELS[worst[1].level]!.name} (${worst[0]}, ${worst[1].score.toFixed(0)})` : 'none'}, ` +
        `source ${rt.source.description} ${sourceUp ? 'up' : `partly down (${sourceError})`}` +
        (notFresh.length > 0 ? `; ${notFresh.filter((st) => st.state === 'stale').length} stale, ${notFresh.filter((st) => st.state === 'unknown').length} unknown` : ''),
    );
    const event = { type: 'cycle', origin: result.origin, instances: result.instances.length, ready, seconds };
    for (const l of listeners) l(event);
  }

  /** The snapshot to publish at `origin`: fresh results where complete, the last good ones (stale) or nothing (unknown) elsewhere. */
  function publication(rt: Runtime, origin: number, window: HistoryWindow | undefined, results: ReadonlyMap<string, CycleResult> | undefined): ForecastSnapshot {
    const published = freshness.update(origin, window, results);
    const risk = new Map<string, InstanceRisk>();
    const states = new Map<string, InstanceState>();
    previousLevels.clear();
    for (const p of published) {
      if (p.risk) risk.set(p.forecast.instance, p.risk);
      if (p.level !== undefined) previousLevels.set(p.forecast.instance, p.level);
      states.set(p.forecast.instance, { state: p.state, level: p.level, origin: p.origin, goodAt: p.goodAt });
    }
    return { origin, quantileCount: rt.manifest.quantiles.length, horizons: rt.horizons, percentiles: rt.percentiles, instances: published.map((p) => p.forecast), risk, states };
  }

  /** A cycle that read (or forecast) nothing: every server keeps its last good result while it may, marked stale. */
  async function carryOver(rt: Runtime, origin: number): Promise<void> {
    if (!snapshot) return;
    const next = publication(rt, origin, undefined, undefined);
    const text = await renderForecastsAsync(next);
    snapshot = next;
    forecastText = text;
    encodeForecasts(text);
    for (const instance of recentRisk.keys()) if (!next.states?.has(instance)) recentRisk.delete(instance);
  }

  function markDown(error: string): void {
    sourceUp = false;
    downSince ??= Date.now() / 1000;
    sourceError = error;
  }

  /** A cycle's time for the log: UTC to the minute, or to the second for wall-clock instants. */
  function clockTime(t: number, seconds = false): string {
    return new Date(t * 1000).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ') + 'Z';
  }

  const sourceState = (): SourceState => {
    const config = (runtime ?? { config: opts.loaded.config }).config;
    const simulated = config.source.type === 'simulator';
    return {
      type: simulated ? 'simulator' : 'prometheus',
      url: simulated ? null : displayUrl(config.source.prometheus!.url),
      up: sourceUp,
      downSince: downSince ?? null,
      lastSuccess: lastSuccess ?? null,
      error: sourceUp ? null : (sourceError ?? null),
      clock: simulated ? { speed: clock.speed } : null,
    };
  };

  /** Runs a cycle unless one is running (then waits for it): cycles never overlap. */
  function runCycle(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (!cycling) {
      const ac = new AbortController();
      cycleAbort = ac;
      cycling = cycle(ac.signal)
        .catch((e: unknown) => {
          if (e instanceof CycleAborted) return log(`cycle aborted: the ${e.why === 'shutdown' ? 'sidecar is shutting down' : 'runtime is being replaced by a reload'}`);
          const msg = e instanceof Error ? e.message : String(e);
          log(`cycle failed: ${e instanceof Error ? (e.stack ?? msg) : msg}`, 'error');
          emitFailed(runtime ? Math.floor(now() / runtime.config.source.step) * runtime.config.source.step : now(), 'cycle', 'internal', msg);
        })
        .finally(() => {
          cycling = undefined;
          if (cycleAbort === ac) cycleAbort = undefined;
        });
    }
    return cycling;
  }

  /** Aborts the cycle in flight, if any, and waits up to `ms` for it to end. */
  async function abortCycle(why: 'shutdown' | 'reload', ms: number): Promise<boolean> {
    abortInFlight(why);
    return settlesWithin(cycling, ms);
  }

  /** Marks the cycle in flight aborted, then ends the source's reads: the cycle stops at its next step, not counted as a failure. */
  function abortInFlight(why: 'shutdown' | 'reload'): void {
    if (!cycleAbort) return;
    cycleAbort.abort(new CycleAborted(why));
    runtime?.source.abort?.(why);
  }

  function schedule(): void {
    if (stopped || !runtime) return;
    const { step, interval, delay } = runtime.config.source;
    const t = now();
    const next = interval !== undefined ? t + interval : (Math.floor(t / step) + 1) * step + (runtime.config.source.type === 'simulator' ? 0 : delay);
    // +1 ms and rounded up: a timer that fires a fraction of a millisecond early would, at 60x,
    // land before the step boundary and repeat the previous cycle's origin
    timer = setTimeout(() => void runCycle().then(schedule), Math.ceil(clock.wallMs(next - t)) + 1);
    timer.unref?.();
  }

  const selfState = (): SelfState => ({
    version: VERSION,
    model: runtime ? { name: runtime.manifest.name, version: runtime.manifest.version, provider: runtime.runner.provider } : undefined,
    cycleDurations: durations,
    lastSuccess,
    sourceUp,
    source: { type: sourceState().type, url: sourceState().url ?? '' },
    errors,
    dropped,
    droppedForecasts,
    instances: snapshot?.instances.length ?? 0,
    calibration: runtime?.calibration.snapshot() ?? [],
  });

  async function reloadOnce(): Promise<void> {
    if (!runtime || stopped) throw new Error('not started');
    let next: Runtime;
    try {
      const loaded = opts.configFile === undefined ? opts.loaded : await loadConfig(opts.configFile, opts.env ?? process.env);
      if (loaded.config.listen !== runtime.config.listen) log(`reload: listen changed to ${loaded.config.listen}; it takes effect on restart`, 'warn');
      if (clockFor(loaded.config, opts.now).speed !== clock.speed) log(`reload: the clock speed changed; it takes effect on restart`, 'warn');
      next = await createRuntime(loaded, opts.repoRoot, now());
    } catch (e) {
      countError('reload', e instanceof ConfigError ? 'config' : 'model');
      const msg = e instanceof Error ? e.message : String(e);
      log(`reload failed, still serving the previous config and model: ${msg}`, 'error');
      throw e;
    }
    // the cycle in flight ran on the runtime being replaced: aborted, so a stuck read never holds
    // a reload; it is bounded like at shutdown, and what it leaves behind is superseded below
    await abortCycle('reload', CYCLE_ABORT_MS);
    if (stopped) {
      await disposeRuntime(next);
      throw new Error('the sidecar is shutting down');
    }
    // read only now, after the wait: this is the runtime that is replaced and disposed, exactly once
    const old = runtime;
    runtime = carryCalibration(old, next);
    await disposeRuntime(old);
    log(`reloaded: model ${next.manifest.name} ${next.manifest.version} (contract version ${next.contract.version}) on ${next.runner.provider}`);
    await runCycle();
  }

  function reload(): Promise<void> {
    if (reloading) return Promise.reject(new ReloadInProgressError());
    const p = reloadOnce().finally(() => {
      if (reloading === p) reloading = undefined;
    });
    reloading = p;
    return p;
  }

  function requestReload(): void {
    if (reloading) {
      reloadAgain = true;
      log('reload requested while one runs: it follows once that one is done');
      return;
    }
    reload()
      .catch(() => undefined) // logged by reloadOnce; the previous config and model keep serving
      .finally(() => {
        if (reloadAgain && !stopped) {
          reloadAgain = false;
          requestReload();
        }
      });
  }

  async function startOnce(): Promise<void> {
    const rt = await createRuntime(opts.loaded, opts.repoRoot, now());
    if (stopped) {
      await disposeRuntime(rt);
      return;
    }
    runtime = rt;
    // undone in reverse order by stop(): the runtime (model, source connections) last
    cleanups.add('model and source', () => (runtime ? disposeRuntime(runtime) : undefined));
    log(`model ${rt.manifest.name} ${rt.manifest.version} (contract version ${rt.contract.version}) from ${rt.modelDir} on ${rt.runner.provider}${rt.runner.fallbackReason ? ` (${rt.runner.fallbackReason})` : ''}`);
    api = await startApiServer({
      listen: rt.config.listen,
      metrics: () => [...forecastText, renderSelf(selfState())],
      metricsGzip: () => (forecastGzip && forecastGzip.text === forecastText ? [forecastGzip.gz, gzipSync(renderSelf(selfState()))] : undefined),
      ready: () => snapshot !== undefined,
      reload,
      fleet: () => fleetJson(snapshot, lastWindow, sourceState(), recentRisk),
      forecast: (instance) => forecastJson(instance, snapshot, lastWindow, runtime),
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      simulation: () => runtime?.simulation,
      log,
      previewScript: previewBundle(opts.repoRoot),
      now,
    });
    const server = api;
    cleanups.add('HTTP listener', () => server.close());
    cleanups.add('running reload', () => reloading);
    cleanups.add('cycle in flight', async () => {
      if (timer) clearTimeout(timer);
      if (!(await abortCycle('shutdown', CYCLE_ABORT_MS))) log(`shutdown: the cycle in flight did not end within ${CYCLE_ABORT_MS} ms of being aborted; carrying on`, 'warn');
    });
    if (stopped) return;
    await runCycle();
    schedule();
  }

  return {
    start(): Promise<void> {
      starting ??= startOnce().catch(async (e: unknown) => {
        // a failed start leaves nothing running
        stopped = true;
        await cleanups.run(STOP_STEP_MS, (name, problem) => log(`start-up failed; undoing ${name}: ${problem}`, 'warn'));
        runtime = undefined;
        api = undefined;
        throw e;
      });
      return starting;
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        // abort first: a cycle or reload stuck on a read ends now, not when its timeout expires
        abortInFlight('shutdown');
        // a start still loading the model is waited for (bounded): what it built is then undone
        if (starting) await settlesWithin(starting, STOP_STEP_MS);
        await cleanups.run(STOP_STEP_MS, (name, problem) => log(`shutdown: ${name}: ${problem}`, 'warn'));
      })();
      return stopping;
    },
    address(): string {
      if (!api) throw new Error('not started');
      return api.address;
    },
    reload,
    requestReload,
    runCycle,
    describe(): AppDescription | undefined {
      if (!api || !runtime) return undefined;
      const { step, interval } = runtime.config.source;
      const cycleSeconds = interval ?? step;
      return {
        address: api.address,
        source: sourceState(),
        simulatedServers: runtime.simulation?.servers.length,
        exampleInstance: runtime.simulation?.servers[0]?.instance,
        cycleSeconds,
        cycleWallSeconds: clock.wallMs(cycleSeconds) / 1000,
      };
    },
  };
}

/** The plugin's preview bundle, read once when first asked for (undefined until it is built). */
function previewBundle(repoRoot: string): () => string | undefined {
  let cached: string | undefined;
  return () => {
    if (cached === undefined) {
      const file = path.join(repoRoot, 'plugin', 'dist-preview', 'preview.js');
      if (existsSync(file)) cached = readFileSync(file, 'utf8');
    }
    return cached;
  };
}

/** How long stop() and reload wait for an aborted cycle to end (inference already running finishes its batch). */
const CYCLE_ABORT_MS = 3000;

/** The most stop() gives each of its steps (closing the listener, releasing the model). */
const STOP_STEP_MS = 3000;

/** Risk scores kept per instance for /api/v1/fleet's `recent` (6 h of 5-minute cycles). */
const RECENT_CYCLES = 72;

function fleetJson(s: ForecastSnapshot | undefined, w: HistoryWindow | undefined, source: SourceState, recent: ReadonlyMap<string, ReadonlyArray<[number, number]>>): unknown {
  return {
    origin: s?.origin ?? null,
    stale: !source.up,
    lastSuccess: source.lastSuccess,
    step: w?.step ?? null,
    source,
    instances: (s?.instances ?? []).map((i) => ({
      instance: i.instance,
      profile: i.profile,
      ready: i.ready,
      ...stateJson(s?.states?.get(i.instance)),
      history: i.history ?? null,
      ...riskJson(s?.risk.get(i.instance), s?.states?.get(i.instance)),
      recent: recent.get(i.instance) ?? [],
      current: Object.fromEntries(Object.entries(i.current).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
    })),
  };
}

/** fresh | stale | unknown, and the origin of the last good data (null when never complete). */
function stateJson(st: InstanceState | undefined): Record<string, unknown> {
  return { state: st?.state ?? 'fresh', stale: (st?.state ?? 'fresh') !== 'fresh', dataAt: st?.goodAt ?? null };
}

function riskJson(r: InstanceRisk | undefined, st: InstanceState | undefined): Record<string, unknown> {
  // unknown: no score, only the last level seen (as /metrics publishes it)
  if (!r) return st?.level !== undefined ? { level: st.level, severity: LEVELS[st.level]!.name } : {};
  return {
    score: Math.round(r.score * 100) / 100,
    level: r.level,
    severity: LEVELS[r.level]!.name,
    topDriver: r.topDriver ?? null,
    drivers: Object.fromEntries(Object.entries(r.drivers).map(([k, v]) => [k, Math.round(v * 100) / 100])),
    predicted: r.predicted,
  };
}

function forecastJson(instance: string, s: ForecastSnapshot | undefined, w: HistoryWindow | undefined, rt: Runtime | undefined): unknown {
  const inst = s?.instances.find((i) => i.instance === instance);
  if (!s || !inst || !w || !rt) return undefined;
  const td = rt.manifest.decoder_length;
  const nq = rt.manifest.quantiles.length;
  // the last day (what the cones draw), however much more the model read
  const shown = Math.min(w.length, Math.round(86400 / w.step));
  const start = w.end - (shown - 1) * w.step;
  const hist = w.instances.get(instance) ?? {};
  const st = s.states?.get(instance);
  // a stale server's forecast is the one made at its last good origin
  const origin = st?.origin ?? s.origin;
  return {
    instance,
    profile: inst.profile,
    ready: inst.ready,
    ...stateJson(st),
    history: inst.history ?? null,
    origin,
    step: w.step,
    percentiles: rt.manifest.quantiles.map((q) => +(q * 100).toFixed(6)),
    metrics: Object.fromEntries(
      METRIC_NAMES.filter((m) => hist[m]).map((m) => {
        const f = inst.forecasts[m];
        return [
          m,
          {
            history: Array.from(hist[m]!.subarray(hist[m]!.length - shown), (v, k) => [start + k * w.step, Number.isFinite(v) ? v : null]),
            forecast: f
              ? {
                  times: Array.from({ length: td }, (_, h) => origin + (h + 1) * w.step),
                  quantiles: Object.fromEntries(rt.manifest.quantiles.map((q, k) => [String(+(q * 100).toFixed(6)), Array.from({ length: td }, (_, h) => f.quantiles[h * nq + k])])),
                }
              : null,
          },
        ];
      }),
    ),
  };
}
