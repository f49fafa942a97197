/**
 * The sidecar as a handle: `createApp(config)` wires source → forecast → (risk) → exporter and
 * the HTTP API; `start` runs the first cycle and schedules the next ones aligned to the step,
 * never overlapping; `stop` undoes start-up in reverse order, bounded in time, idempotent.
 *
 * The parts: runtime.ts (what a config and model produce), cycle.ts (one cycle, and what it
 * published), self-monitoring.ts (the sidecar's own counters), views.ts (the API's JSON),
 * preview-bundle.ts, lifecycle.ts (cleanups, aborts, reloads).
 */
import { gzipStream } from '../exporter/gzip-stream';
import type { LoadedConfig } from '../config/load';
import { ConfigError, loadConfig } from '../config/load';
import type { SelfState } from '../exporter/exposition';
import { renderSelf } from '../exporter/exposition';
import type { ApiServer } from '../api/server';
import { startApiServer } from '../api/server';
import type { Clock } from './clock';
import type { CycleEvent } from './cycle';
import { Cycles } from './cycle';
import type { Log } from './log';
import { logfmtLogger } from './log';
import { Cleanups, CycleAborted, ReloadGate, settlesWithin } from './lifecycle';
import { previewBundle } from './preview-bundle';
import type { Runtime } from './runtime';
import { carryCalibration, clockFor, createRuntime, disposeRuntime } from './runtime';
import { SelfMonitor } from './self-monitoring';
import type { SourceState } from './views';
import { displayUrl, fleetJson, forecastJson } from './views';

const VERSION = '0.1.0';

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

/** How long stop() and reload wait for an aborted cycle to end (inference already running finishes its batch). */
const CYCLE_ABORT_MS = 3000;

/** The most stop() gives each of its steps (closing the listener, releasing the model). */
const STOP_STEP_MS = 3000;

export function createApp(opts: AppOptions): App {
  const app = new Sidecar(opts);
  return {
    start: () => app.start(),
    stop: () => app.stop(),
    address: () => app.address(),
    reload: () => app.reloads.now(),
    requestReload: () => app.reloads.request(),
    runCycle: () => app.runCycle(),
    describe: () => app.describe(),
  };
}

/** The app's state and lifecycle; createApp hands out its methods as the App handle. */
class Sidecar {
  private readonly clock: Clock;
  private readonly log: Log;
  private runtime: Runtime | undefined;
  private api: ApiServer | undefined;
  private readonly monitor = new SelfMonitor();
  private readonly listeners = new Set<(event: CycleEvent) => void>();
  private readonly cycles: Cycles;
  private cycling: Promise<void> | undefined;
  /** Owned by the cycle in flight: aborted (with the source's reads) by shutdown and reload. */
  private cycleAbort: AbortController | undefined;
  readonly reloads: ReloadGate;
  private starting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** What start-up did, undone in reverse order by stop() (and by a start that fails). */
  private readonly cleanups = new Cleanups();

  constructor(private readonly opts: AppOptions) {
    this.clock = clockFor(opts.loaded.config, opts.now);
    this.log = opts.log ?? logfmtLogger((line) => void process.stderr.write(line));
    const emit = (event: CycleEvent): void => {
      for (const l of this.listeners) l(event);
    };
    this.cycles = new Cycles({ now: () => this.clock.now(), log: this.log, monitor: this.monitor, emit }, opts.loaded.config);
    this.reloads = new ReloadGate(
      () => this.reloadOnce(),
      () => this.stopped,
      (line) => this.log(line),
    );
  }

  start(): Promise<void> {
    this.starting ??= this.startOnce().catch(async (e: unknown) => {
      // a failed start leaves nothing running
      this.stopped = true;
      await this.cleanups.run(STOP_STEP_MS, (name, problem) => this.log(`start-up failed; undoing ${name}: ${problem}`, 'warn'));
      this.runtime = undefined;
      this.api = undefined;
      throw e;
    });
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      // abort first: a cycle or reload stuck on a read ends now, not when its timeout expires
      this.abortInFlight('shutdown');
      // a start still loading the model is waited for (bounded): what it built is then undone
      if (this.starting) await settlesWithin(this.starting, STOP_STEP_MS);
      await this.cleanups.run(STOP_STEP_MS, (name, problem) => this.log(`shutdown: ${name}: ${problem}`, 'warn'));
    })();
    return this.stopping;
  }

  address(): string {
    if (!this.api) throw new Error('not started');
    return this.api.address;
  }

  describe(): AppDescription | undefined {
    const { api, runtime } = this;
    if (!api || !runtime) return undefined;
    const { step, interval } = runtime.config.source;
    const cycleSeconds = interval ?? step;
    return {
      address: api.address,
      source: this.sourceState(),
      simulatedServers: runtime.simulation?.servers.length,
      exampleInstance: runtime.simulation?.servers[0]?.instance,
      cycleSeconds,
      cycleWallSeconds: this.clock.wallMs(cycleSeconds) / 1000,
    };
  }

  /** Runs a cycle unless one is running (then waits for it): cycles never overlap. */
  runCycle(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.cycling && this.runtime) {
      const ac = new AbortController();
      const rt = this.runtime;
      this.cycleAbort = ac;
      this.cycling = this.cycles
        .run(rt, ac.signal)
        .catch((e: unknown) => {
          if (e instanceof CycleAborted)
            return this.log(`cycle aborted: the ${e.why === 'shutdown' ? 'sidecar is shutting down' : 'runtime is being replaced by a reload'}`);
          const msg = e instanceof Error ? e.message : String(e);
          this.log(`cycle failed: ${e instanceof Error ? (e.stack ?? msg) : msg}`, 'error');
          const now = this.clock.now();
          this.cycles.failed(
            this.runtime ? Math.floor(now / this.runtime.config.source.step) * this.runtime.config.source.step : now,
            'cycle',
            'internal',
            msg,
          );
        })
        .finally(() => {
          this.cycling = undefined;
          if (this.cycleAbort === ac) this.cycleAbort = undefined;
        });
    }
    return this.cycling ?? Promise.resolve();
  }

  /**
   * Builds the runtime, then starts the HTTP API and the cycles, registering what undoes each
   * step as it goes; a stop() meanwhile ends start-up at the next step.
   */
  private async startOnce(): Promise<void> {
    const rt = await createRuntime(this.opts.loaded, this.opts.repoRoot, this.clock.now());
    if (this.stopped) {
      await disposeRuntime(rt);
      return;
    }
    this.runtime = rt;
    // undone in reverse order by stop(): the runtime (model, source connections) last
    this.cleanups.add('model and source', () => (this.runtime ? disposeRuntime(this.runtime) : undefined));
    this.log(
      `model ${rt.manifest.name} ${rt.manifest.version} (contract version ${rt.contract.version}) from ${rt.modelDir} on ${rt.runner.provider}${rt.runner.fallbackReason ? ` (${rt.runner.fallbackReason})` : ''}`,
    );
    const server = await this.startApi(rt);
    this.api = server;
    this.cleanups.add('HTTP listener', () => server.close());
    this.cleanups.add('running reload', () => this.reloads.inFlight);
    this.cleanups.add('cycle in flight', async () => {
      if (this.timer) clearTimeout(this.timer);
      if (!(await this.abortCycle('shutdown', CYCLE_ABORT_MS)))
        this.log(`shutdown: the cycle in flight did not end within ${CYCLE_ABORT_MS} ms of being aborted; carrying on`, 'warn');
    });
    if (this.stopped) return;
    await this.runCycle();
    this.schedule();
  }

  /** The HTTP API on what the cycles publish. */
  private startApi(rt: Runtime): Promise<ApiServer> {
    const c = this.cycles;
    return startApiServer({
      listen: rt.config.listen,
      metrics: () => [...c.forecastPlain(), renderSelf(this.selfState())],
      metricsGzip: () => (c.forecastGzip ? gzipStream(c.forecastGzip, Buffer.from(renderSelf(this.selfState()))) : undefined),
      ready: () => c.snapshot !== undefined,
      reload: () => this.reloads.now(),
      fleet: () => fleetJson(c.snapshot, c.lastWindow, this.sourceState(), (instance) => c.recent.of(instance)),
      forecast: (instance) => forecastJson(instance, c.snapshot, c.lastWindow, this.runtime),
      subscribe: (l) => {
        this.listeners.add(l);
        return () => this.listeners.delete(l);
      },
      simulation: () => this.runtime?.simulation,
      log: this.log,
      previewScript: previewBundle(this.opts.repoRoot),
      now: () => this.clock.now(),
    });
  }

  /**
   * Re-reads config and model into a new runtime; on any error keeps the old one and rejects
   * with the reason. The cycle in flight is aborted, the old runtime disposed, then a cycle
   * runs on the new one.
   */
  private async reloadOnce(): Promise<void> {
    if (!this.runtime || this.stopped) throw new Error('not started');
    const { opts } = this;
    let next: Runtime;
    try {
      const loaded = opts.configFile === undefined ? opts.loaded : await loadConfig(opts.configFile, opts.env ?? process.env);
      if (loaded.config.listen !== this.runtime.config.listen)
        this.log(`reload: listen changed to ${loaded.config.listen}; it takes effect on restart`, 'warn');
      if (clockFor(loaded.config, opts.now).speed !== this.clock.speed) this.log(`reload: the clock speed changed; it takes effect on restart`, 'warn');
      next = await createRuntime(loaded, opts.repoRoot, this.clock.now());
    } catch (e) {
      this.monitor.countError('reload', e instanceof ConfigError ? 'config' : 'model');
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`reload failed, still serving the previous config and model: ${msg}`, 'error');
      throw e;
    }
    // the cycle in flight ran on the runtime being replaced: aborted, so a stuck read never holds
    // a reload; it is bounded like at shutdown, and what it leaves behind is superseded below
    await this.abortCycle('reload', CYCLE_ABORT_MS);
    if (this.stopped) {
      await disposeRuntime(next);
      throw new Error('the sidecar is shutting down');
    }
    // read only now, after the wait: this is the runtime that is replaced and disposed, exactly once
    const old = this.runtime;
    this.runtime = carryCalibration(old, next);
    await disposeRuntime(old);
    this.log(`reloaded: model ${next.manifest.name} ${next.manifest.version} (contract version ${next.contract.version}) on ${next.runner.provider}`);
    await this.runCycle();
  }

  /** Aborts the cycle in flight, if any, and waits up to `ms` for it to end. */
  private async abortCycle(why: 'shutdown' | 'reload', ms: number): Promise<boolean> {
    this.abortInFlight(why);
    return settlesWithin(this.cycling, ms);
  }

  /** Marks the cycle in flight aborted, then ends the source's reads: the cycle stops at its next step, not counted as a failure. */
  private abortInFlight(why: 'shutdown' | 'reload'): void {
    if (!this.cycleAbort) return;
    this.cycleAbort.abort(new CycleAborted(why));
    this.runtime?.source.abort?.(why);
  }

  /** Sets the timer for the next cycle: source.interval from now, or the next step boundary (Prometheus: plus source.delay). */
  private schedule(): void {
    const rt = this.runtime;
    if (this.stopped || !rt) return;
    const { step, interval, delay } = rt.config.source;
    const t = this.clock.now();
    const next = interval !== undefined ? t + interval : (Math.floor(t / step) + 1) * step + (rt.config.source.type === 'simulator' ? 0 : delay);
    // +1 ms and rounded up: a timer that fires a fraction of a millisecond early would, at 60x,
    // land before the step boundary and repeat the previous cycle's origin
    this.timer = setTimeout(() => void this.runCycle().then(() => this.schedule()), Math.ceil(this.clock.wallMs(next - t)) + 1);
    this.timer.unref?.();
  }

  private sourceState(): SourceState {
    const config = (this.runtime ?? { config: this.opts.loaded.config }).config;
    const simulated = config.source.type === 'simulator';
    const c = this.cycles;
    return {
      type: simulated ? 'simulator' : 'prometheus',
      url: simulated ? null : displayUrl(config.source.prometheus!.url),
      up: c.sourceUp,
      downSince: c.downSince ?? null,
      lastSuccess: c.lastSuccess ?? null,
      error: c.sourceUp ? null : (c.sourceError ?? null),
      clock: simulated ? { speed: this.clock.speed } : null,
    };
  }

  private selfState(): SelfState {
    const { runtime, monitor } = this;
    const source = this.sourceState();
    return {
      version: VERSION,
      model: runtime ? { name: runtime.manifest.name, version: runtime.manifest.version, provider: runtime.runner.provider } : undefined,
      cycleDurations: monitor.durations,
      lastSuccess: this.cycles.lastSuccess,
      sourceUp: this.cycles.sourceUp,
      source: { type: source.type, url: source.url ?? '' },
      errors: monitor.errors,
      dropped: monitor.dropped,
      droppedForecasts: monitor.droppedForecasts,
      instances: this.cycles.snapshot?.instances.length ?? 0,
      calibration: runtime?.calibration.snapshot() ?? [],
    };
  }
}
