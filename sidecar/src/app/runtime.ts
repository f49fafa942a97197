/**
 * The runtime: everything one config and model produce (the model's inference workers, the
 * history source, the publication specs, thresholds and live calibration), built together and
 * swapped as a whole on reload.
 */
import type { Publication } from '../exporter/publication';
import { publicationOf } from '../exporter/publication';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Config } from '../config/schema';
import type { ModelManifest } from '../forecast/manifest';
import { loadModelFiles } from '../forecast/manifest';
import type { ServingContract } from '../forecast/contract';
import { servingContract } from '../forecast/contract';
import type { InferenceRunner } from '../forecast/runner';
import { startInferenceRunner } from '../forecast/runner';
import type { ForecastOptions } from '../forecast/forecaster';
import { Calibration } from '../forecast/calibration';
import type { HorizonSpec, PercentileSpec } from '../forecast/horizons';
import { publicationSpecs } from '../forecast/horizons';
import type { FleetThresholds, MetricName } from '../profiles/profiles';
import { METRIC_NAMES, resolveThresholds } from '../profiles/profiles';
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
import type { Clock } from './clock';
import { createClock } from './clock';
import type { FreshnessOptions } from './freshness';

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
  /** Which optional series /metrics publishes (the config's exporter section). */
  readonly publication: Publication;
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

/** The history source a config names: the embedded simulator (its history starting `history` before `now`) or Prometheus. */
function createSource(loaded: LoadedConfig, now: number): { source: HistorySource; simulation: Simulation | undefined } {
  const { config, secrets } = loaded;
  const accept = (instance: string): boolean => inShard(instance, config.sharding.total, config.sharding.index);
  if (config.source.type === 'simulator') {
    const s = config.source.simulator;
    const fleet = s.fleet !== undefined ? parseFleetSpec(s.fleet) : s.servers !== undefined ? scaleFleet(s.servers) : DEFAULT_FLEET;
    const sim = new Simulation({ fleet, seed: s.seed, scenario: s.scenario, buildUpSeconds: s.build_up });
    return { source: new SimulatorSource(sim, now - s.history, accept), simulation: sim };
  }
  const queries = Object.fromEntries(METRIC_NAMES.map((m) => [m, config.metrics[m]?.expr ?? METRICS[m].expr])) as Record<MetricName, string>;
  const profileQuery = config.profiles.label_query ? { profileQuery: config.profiles.label_query } : {};
  return { source: new PrometheusSource({ config: config.source.prometheus!, secrets, queries, accept, ...profileQuery }), simulation: undefined };
}

/**
 * Builds the runtime of a config: loads the model files, checks the publication specs against
 * them (ConfigError), opens the source and starts the inference workers (ModelError).
 */
export async function createRuntime(loaded: LoadedConfig, repoRoot: string, now: number): Promise<Runtime> {
  const { config, origin } = loaded;
  const modelDir = resolveModelDir(config.model.path, repoRoot);
  const { manifest } = await loadModelFiles(modelDir);
  const { horizons, percentiles } = publicationSpecs(config, manifest, origin);
  const { source, simulation } = createSource(loaded, now);
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
    publication: publicationOf(config.exporter, horizons, percentiles),
    profileOf: profileMatcher(config.profiles.rules),
    thresholds: resolveThresholds(config.profiles.thresholds),
    calibration: new Calibration(horizons, manifest.quantiles, config.source.step, config.forecast.calibration_series),
  };
}

/**
 * Live calibration survives a reload when it measures the same thing: the same horizons (label
 * and step index), quantiles and step. Otherwise the new runtime starts it afresh.
 */
export function carryCalibration(from: Runtime, to: Runtime): Runtime {
  const same =
    from.config.source.step === to.config.source.step &&
    JSON.stringify(from.horizons) === JSON.stringify(to.horizons) &&
    JSON.stringify(from.manifest.quantiles) === JSON.stringify(to.manifest.quantiles);
  if (!same) return to;
  to.calibration.adopt(from.calibration);
  return to;
}

/** Stops the model's workers and releases the source's connections. */
export async function disposeRuntime(r: Runtime): Promise<void> {
  await r.runner.stop();
  r.source.close?.();
}

/** The clock a config runs on: the simulator's speed (Prometheus: real time), or a driven one (tests) at that speed. */
export function clockFor(config: Config, driven: (() => number) | undefined): Clock {
  const clock = createClock(config.source.type === 'simulator' ? config.source.simulator.speed : 1);
  return driven ? { ...clock, now: driven } : clock;
}
