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
import { formatDuration, parseDuration } from '../config/duration';
import type { ModelManifest } from '../forecast/manifest';
import { loadModelFiles } from '../forecast/manifest';
import type { ServingContract } from '../forecast/contract';
import { servingContract } from '../forecast/contract';
import type { InferenceRunner } from '../forecast/runner';
import { startInferenceRunner } from '../forecast/runner';
import type { ForecastOptions, ForecastResult } from '../forecast/forecaster';
import { forecastWindow } from '../forecast/forecaster';
import { Calibration } from '../forecast/calibration';
import type { ForecastSnapshot, HorizonSpec, PercentileSpec, SelfState } from '../exporter/exposition';
import { renderForecastsAsync, renderSelf } from '../exporter/exposition';
import { CYCLE_BUCKETS } from '../exporter/metrics';
import type { MetricName } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import { profileMatcher } from '../profiles/match';
import type { ProfileOf } from '../profiles/match';
import { METRICS } from '../source/promql';
import type { HistorySource, HistoryWindow } from '../source/source';
import { SourceError } from '../source/source';
import { PrometheusSource } from '../source/prometheus';
import { SimulatorSource } from '../source/simulator';
import { inShard } from '../source/sharding';
import { Simulation } from '../simulator/simulation';
import { DEFAULT_FLEET, parseFleetSpec, scaleFleet } from '../simulator/fleet';
import { startApiServer } from '../api/server';
import { assessFleet } from '../risk/assess';
import type { InstanceRisk } from '../risk/assess';
import { LEVELS } from '../risk/levels';
import type { FleetThresholds } from '../profiles/profiles';
import { resolveThresholds } from '../profiles/profiles';
import type { ApiServer } from '../api/server';
import type { Clock } from './clock';
import { createClock } from './clock';
import { pastRisk } from './backfill';

export const VERSION = '0.1.0';

export interface AppOptions {
  readonly loaded: LoadedConfig;
  /** The file to re-read on reload; undefined for the embedded default. */
  readonly configFile?: string | undefined;
  /** Where relative model paths are looked up when not found from the working directory. */
  readonly repoRoot: string;
  /** A driven clock (tests, bench, eval); default: real time, or the simulator's `speed`. */
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** Environment for config reloads. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface App {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** http://host:port once started. */
  address(): string;
  /** Re-reads config and model; on any error keeps the old ones and rejects with the reason. */
  reload(): Promise<void>;
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
  readonly simulation: { readonly sim: Simulation; readonly source: SimulatorSource } | undefined;
  readonly horizons: readonly HorizonSpec[];
  readonly percentiles: readonly PercentileSpec[];
  readonly profileOf: ProfileOf;
  /** Default thresholds with the config's profiles.thresholds applied. */
  readonly thresholds: FleetThresholds;
  readonly calibration: Calibration;
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

/** Horizons and percentiles the config asks for, checked against what the model produces. */
function publicationSpecs(config: Config, manifest: ModelManifest, origin: string): { horizons: HorizonSpec[]; percentiles: PercentileSpec[] } {
  if (manifest.step_seconds !== config.source.step) {
    throw new ConfigError(`${origin}: source.step: the model works in steps of ${formatDuration(manifest.step_seconds)} (got ${formatDuration(config.source.step)})`);
  }
  const horizons = config.forecast.horizons.map((label, i) => {
    const steps = parseDuration(label)! / config.source.step;
    if (steps > manifest.decoder_length) {
      throw new ConfigError(`${origin}: forecast.horizons[${i}]: ${label} is beyond the model's ${formatDuration(manifest.decoder_length * manifest.step_seconds)} forecast`);
    }
    return { label, index: steps - 1 };
  });
  const percentiles = config.forecast.percentiles.map((p, i) => {
    const index = manifest.quantiles.findIndex((q) => Math.abs(q * 100 - p) < 1e-9);
    if (index < 0) {
      throw new ConfigError(`${origin}: forecast.percentiles[${i}]: ${p} is not a quantile the model produces (${manifest.quantiles.map((q) => +(q * 100).toFixed(6)).join(', ')})`);
    }
    return { label: String(p), index };
  });
  return { horizons, percentiles };
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
    const simSource = new SimulatorSource(sim, now - s.history, accept);
    source = simSource;
    simulation = { sim, source: simSource };
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

async function disposeRuntime(r: Runtime): Promise<void> {
  await r.runner.stop();
  if (r.source instanceof PrometheusSource) r.source.close();
}

/** The clock a config runs on: the simulator's speed (Prometheus: real time), or a driven one (tests) at that speed. */
function clockFor(config: Config, driven: (() => number) | undefined): Clock {
  const clock = createClock(config.source.type === 'simulator' ? config.source.simulator.speed : 1);
  return driven ? { ...clock, now: driven } : clock;
}

export function createApp(opts: AppOptions): App {
  const clock = clockFor(opts.loaded.config, opts.now);
  const now = (): number => clock.now();
  const log = opts.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  let runtime: Runtime | undefined;
  let api: ApiServer | undefined;
  let snapshot: ForecastSnapshot | undefined;
  // rendered once per cycle: /metrics only concatenates, so it stays fast while a cycle runs
  let forecastText: readonly Buffer[] = [];
  let lastWindow: HistoryWindow | undefined;
  // the last RECENT_CYCLES risk scores per instance, for the preview page's past heatmap columns
  const recentRisk = new Map<string, Array<[number, number]>>();
  let lastSuccess: number | undefined;
  let sourceUp = false;
  let downSince: number | undefined;
  let sourceError: string | undefined;
  let cycling: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const errors = new Map<string, number>();
  const previousLevels = new Map<string, number>();
  const durations = new Map<string, { buckets: number[]; sum: number; count: number }>();
  const listeners = new Set<(event: unknown) => void>();

  const countError = (stage: string, reason: string, n = 1): void => void errors.set(`${stage}|${reason}`, (errors.get(`${stage}|${reason}`) ?? 0) + n);
  for (const [stage, reasons] of [['source', ['timeout', 'network', 'http_5xx', 'http_429', 'http_4xx', 'auth', 'bad_response', 'query', 'non_finite_value']], ['forecast', ['inference', 'nan_output']], ['reload', ['config', 'model']]] as const) {
    for (const r of reasons) errors.set(`${stage}|${r}`, 0);
  }
  const observe = (stage: string, seconds: number): void => {
    const h = durations.get(stage) ?? { buckets: CYCLE_BUCKETS.map(() => 0), sum: 0, count: 0 };
    CYCLE_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
    durations.set(stage, h);
  };

  async function cycle(): Promise<void> {
    const rt = runtime;
    if (!rt) return;
    const t0 = performance.now();
    const step = rt.config.source.step;
    const end = Math.floor(now() / step) * step;
    let window: HistoryWindow;
    let context: HistoryWindow | undefined;
    try {
      const read = await readForModel(rt, end);
      window = read.window;
      context = read.context;
      if (read.contextError) {
        countError('source', read.contextError.reason);
        log(`source: ${formatDuration(rt.contract.context!.stepSeconds)}-step context read: ${read.contextError.message}; forecasting with that context masked as missing`);
      }
      for (const f of context?.failed ?? []) {
        countError('source', f.error.reason);
        log(`source: ${f.metric} (${formatDuration(context!.step)}-step context read): ${f.error.message}; forecasting with it masked as missing`);
      }
      for (const n of Object.values(context?.skipped ?? {})) if (n) countError('source', 'non_finite_value', n);
    } catch (e) {
      if (e instanceof SourceError) {
        markDown(e.message);
        countError('source', e.reason);
        log(`cycle ${clockTime(end)}: ${rt.source.description} down since ${clockTime(downSince!, true)}: ${e.message}${e.retryable ? ' (will retry next cycle)' : ''}${snapshot ? `; keeping the last forecasts (from ${clockTime(snapshot.origin)})` : '; no forecasts yet'}`);
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
      log(`source: ${f.metric}: ${f.error.message}`);
    }
    for (const n of Object.values(window.skipped)) if (n) countError('source', 'non_finite_value', n);
    rt.calibration.observe(window);
    let result: ForecastResult;
    try {
      result = await forecastWindow(window, forecastOptions(rt), context);
    } catch (e) {
      countError('forecast', 'inference');
      log(`forecast: ${e instanceof Error ? e.message : String(e)}; keeping the last forecasts`);
      return;
    }
    for (const [reason, n] of Object.entries(result.errors)) countError('forecast', reason, n);
    const t2 = performance.now();
    observe('forecast', (t2 - t1) / 1000);
    rt.calibration.record(result);
    // scored in slices with the event loop given back in between: /metrics stays responsive on large fleets
    const risk = new Map<string, InstanceRisk>();
    for (let k = 0; k < result.instances.length; k += 100) {
      for (const [i, r] of assessFleet(window, result.instances.slice(k, k + 100), (p) => rt.thresholds[p], rt.manifest.quantiles, rt.horizons, previousLevels)) risk.set(i, r);
      await new Promise((r) => setImmediate(r));
    }
    previousLevels.clear();
    for (const [i, r] of risk) previousLevels.set(i, r.level);
    observe('risk', (performance.now() - t2) / 1000);
    const next: ForecastSnapshot = { origin: result.origin, quantileCount: rt.manifest.quantiles.length, horizons: rt.horizons, percentiles: rt.percentiles, instances: result.instances, risk };
    const text = await renderForecastsAsync(next);
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
    for (const [instance, r] of risk) {
      const list = recentRisk.get(instance) ?? [];
      if (list.length === 0 || list[list.length - 1]![0] < result.origin) list.push([result.origin, Math.round(r.score * 100) / 100]);
      if (list.length > RECENT_CYCLES) list.splice(0, list.length - RECENT_CYCLES);
      recentRisk.set(instance, list);
    }
    for (const instance of recentRisk.keys()) if (!risk.has(instance)) recentRisk.delete(instance);
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
    let worst: [string, InstanceRisk] | undefined;
    for (const e of risk) if (!worst || e[1].level > worst[1].level || (e[1].level === worst[1].level && e[1].score > worst[1].score)) worst = e;
    log(
      `cycle ${clockTime(result.origin)}: ${result.instances.length} instances (${ready} ready) in ${seconds.toFixed(2)} s, ` +
        `worst ${worst ? `${LEVELS[worst[1].level]!.name} (${worst[0]}, ${worst[1].score.toFixed(0)})` : 'none'}, ` +
        `source ${rt.source.description} ${sourceUp ? 'up' : `partly down (${sourceError})`}`,
    );
    const event = { type: 'cycle', origin: result.origin, instances: result.instances.length, ready, seconds };
    for (const l of listeners) l(event);
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
    cycling ??= cycle()
      .catch((e: unknown) => log(`cycle failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`))
      .finally(() => (cycling = undefined));
    return cycling;
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
    instances: snapshot?.instances.length ?? 0,
    calibration: runtime?.calibration.snapshot() ?? [],
  });

  async function reload(): Promise<void> {
    if (!runtime) throw new Error('not started');
    let next: Runtime;
    try {
      const loaded = opts.configFile === undefined ? opts.loaded : await loadConfig(opts.configFile, opts.env ?? process.env);
      if (loaded.config.listen !== runtime.config.listen) log(`reload: listen changed to ${loaded.config.listen}; it takes effect on restart`);
      if (clockFor(loaded.config, opts.now).speed !== clock.speed) log(`reload: the clock speed changed; it takes effect on restart`);
      next = await createRuntime(loaded, opts.repoRoot, now());
    } catch (e) {
      countError('reload', e instanceof ConfigError ? 'config' : 'model');
      const msg = e instanceof Error ? e.message : String(e);
      log(`reload failed, still serving the previous config and model: ${msg}`);
      throw e;
    }
    const old = runtime;
    // wait for a running cycle so it finishes on the runtime it started with
    await cycling;
    runtime = next;
    await disposeRuntime(old);
    log(`reloaded: model ${next.manifest.name} ${next.manifest.version} (contract version ${next.contract.version}) on ${next.runner.provider}`);
    await runCycle();
  }

  return {
    async start(): Promise<void> {
      if (runtime) return;
      runtime = await createRuntime(opts.loaded, opts.repoRoot, now());
      const rt = runtime;
      log(`model ${rt.manifest.name} ${rt.manifest.version} (contract version ${rt.contract.version}) from ${rt.modelDir} on ${rt.runner.provider}${rt.runner.fallbackReason ? ` (${rt.runner.fallbackReason})` : ''}`);
      try {
        api = await startApiServer({
          listen: rt.config.listen,
          metrics: () => [...forecastText, renderSelf(selfState())],
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
      } catch (e) {
        await disposeRuntime(rt);
        runtime = undefined;
        throw e;
      }
      await runCycle();
      schedule();
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await Promise.race([cycling, new Promise((r) => setTimeout(r, 5000))]);
        await api?.close();
        if (runtime) await disposeRuntime(runtime);
      })();
      return stopping;
    },
    address(): string {
      if (!api) throw new Error('not started');
      return api.address;
    },
    reload,
    runCycle,
    describe(): AppDescription | undefined {
      if (!api || !runtime) return undefined;
      const { step, interval } = runtime.config.source;
      const cycleSeconds = interval ?? step;
      return {
        address: api.address,
        source: sourceState(),
        simulatedServers: runtime.simulation?.sim.servers.length,
        exampleInstance: runtime.simulation?.sim.servers[0]?.instance,
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
      history: i.history ?? null,
      ...riskJson(s?.risk.get(i.instance)),
      recent: recent.get(i.instance) ?? [],
      current: Object.fromEntries(Object.entries(i.current).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
    })),
  };
}

function riskJson(r: InstanceRisk | undefined): Record<string, unknown> {
  if (!r) return {};
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
  return {
    instance,
    profile: inst.profile,
    ready: inst.ready,
    history: inst.history ?? null,
    origin: s.origin,
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
                  times: Array.from({ length: td }, (_, h) => s.origin + (h + 1) * w.step),
                  quantiles: Object.fromEntries(rt.manifest.quantiles.map((q, k) => [String(+(q * 100).toFixed(6)), Array.from({ length: td }, (_, h) => f.quantiles[h * nq + k])])),
                }
              : null,
          },
        ];
      }),
    ),
  };
}
