/**
 * The forecast cycle: read the history (source), forecast it, score the risk, and publish the
 * result for /metrics and the API, all from one runtime. A server whose data is missing, stale
 * or invalid keeps its last good result (marked stale) for a while, then is unknown; a cycle
 * that fails keeps the last good forecasts published. What the last cycle published is held
 * here, swapped as a whole so /metrics and the API never mix two cycles.
 */
import type { Readable } from 'node:stream';
import { formatDuration } from '@foresight/contract';
import type { ForecastResult } from '../forecast/forecaster';
import { forecastWindow } from '../forecast/forecaster';
import type { ForecastSnapshot, InstanceState } from '../exporter/exposition';
import { forecastChunks, renderForecastsAsync } from '../exporter/exposition';
import type { GzipHead } from '../exporter/gzip-stream';
import { deflateHead, inflateHead } from '../exporter/gzip-stream';
import { assessFleet } from '../risk/assess';
import type { InstanceRisk } from '../risk/assess';
import { LEVELS } from '../risk/levels';
import type { HistoryWindow } from '../source/source';
import { SourceError } from '../source/source';
import type { CycleResult } from './freshness';
import { Freshness } from './freshness';
import type { Log } from './log';
import { RecentRisk } from './recent-risk';
import type { Runtime } from './runtime';
import { forecastOptions, freshnessOptions, readForModel } from './runtime';
import type { SelfMonitor } from './self-monitoring';

/** What /api/v1/stream subscribers are told after each cycle (the log says the same in words). */
export type CycleEvent =
  | { readonly type: 'cycle'; readonly origin: number; readonly instances: number; readonly ready: number; readonly seconds: number }
  | {
      readonly type: 'cycle_failed';
      readonly origin: number;
      readonly stage: string;
      readonly reason: string;
      readonly error: string;
      readonly keeping: number | null;
    };

export interface CycleDeps {
  /** The data clock, unix seconds. */
  readonly now: () => number;
  readonly log: Log;
  readonly monitor: SelfMonitor;
  readonly emit: (event: CycleEvent) => void;
}

/** Throws the abort reason (CycleAborted) once the signal is aborted: called after every await of a cycle. */
type Check = () => void;

/** Servers scored per slice, with the event loop given back in between (/metrics stays responsive on large fleets). */
const RISK_SLICE = 100;

export class Cycles {
  /** The last snapshot published; undefined until a first cycle succeeded. */
  snapshot: ForecastSnapshot | undefined;
  /**
   * The snapshot's exposition, encoded once per cycle so /metrics only concatenates and stays fast
   * while a cycle runs: deflated as it is rendered (off the event loop), the head of every gzip
   * scrape. Scrapes that do not ask for gzip are answered by decoding it as they read, so the text
   * (53 MB at 10,000 servers) is never held whole.
   */
  forecastGzip: GzipHead | undefined;
  /** The exposition as text: only when the encoder failed (and empty before the first cycle). */
  private forecastText: readonly Buffer[] | undefined = [];
  /**
   * The newest history read: the API draws its last day up to the snapshot's origin. Taken as
   * soon as a read succeeds, so the window before it (140 MB at 10,000 servers) is released while
   * the new cycle forecasts, instead of being held to its end beside the new one.
   */
  lastWindow: HistoryWindow | undefined;
  /** Unix seconds (wall clock, as alerts compare it with Prometheus' time()) of the last successful cycle. */
  lastSuccess: number | undefined;
  sourceUp = false;
  /** Unix seconds (wall clock) of the first failed read of the current outage. */
  downSince: number | undefined;
  sourceError: string | undefined;
  readonly recent = new RecentRisk();
  private readonly freshness: Freshness;
  /** Each server's level last published, for the risk engine's hysteresis. */
  private readonly previousLevels = new Map<string, number>();

  constructor(
    private readonly d: CycleDeps,
    initial: Runtime['config'],
  ) {
    this.freshness = new Freshness(freshnessOptions(initial));
  }

  /** Runs one cycle on `rt`; rejects with the signal's reason (CycleAborted) when aborted, with any unexpected error as is. */
  async run(rt: Runtime, signal: AbortSignal): Promise<void> {
    const check: Check = () => {
      if (signal.aborted) throw signal.reason;
    };
    const t0 = performance.now();
    const step = rt.config.source.step;
    const end = Math.floor(this.d.now() / step) * step;
    this.freshness.configure(freshnessOptions(rt.config));
    const read = await this.read(rt, end, check);
    if (!read) return;
    const { window, context } = read;
    const t1 = performance.now();
    this.d.monitor.observe('source', (t1 - t0) / 1000);
    this.account(window);
    this.lastWindow = window;
    rt.calibration.observe(window);
    const result = await this.forecast(rt, window, context, check);
    if (!result) return;
    const t2 = performance.now();
    this.d.monitor.observe('forecast', (t2 - t1) / 1000);
    rt.calibration.record(result);
    const risk = await this.score(rt, window, result, check);
    this.d.monitor.observe('risk', (performance.now() - t2) / 1000);
    const next = await this.publish(rt, window, result, risk, check);
    const seconds = (performance.now() - t0) / 1000;
    this.d.monitor.observe('total', seconds);
    this.report(rt, result, next, seconds);
  }

  /** A failed cycle, for /api/v1/stream subscribers (the log says the same in words). */
  failed(origin: number, stage: string, reason: string, error: string): void {
    this.d.emit({ type: 'cycle_failed', origin, stage, reason, error, keeping: this.snapshot ? this.snapshot.origin : null });
  }

  /** The history and context at `end`, or undefined when the source is down (the last good results are then carried over). */
  private async read(rt: Runtime, end: number, check: Check): Promise<{ window: HistoryWindow; context: HistoryWindow | undefined } | undefined> {
    const { log, monitor } = this.d;
    try {
      const read = await readForModel(rt, end);
      check();
      const context = read.context;
      if (read.contextError) {
        monitor.countError('source', read.contextError.reason);
        log(
          `source: ${formatDuration(rt.contract.context!.stepSeconds)}-step context read: ${read.contextError.message}; forecasting with that context masked as missing`,
          'warn',
        );
      }
      for (const f of context?.failed ?? []) {
        monitor.countError('source', f.error.reason);
        log(`source: ${f.metric} (${formatDuration(context!.step)}-step context read): ${f.error.message}; forecasting with it masked as missing`, 'warn');
      }
      monitor.countDropped(context?.dropped ?? {});
      return { window: read.window, context };
    } catch (e) {
      check();
      if (!(e instanceof SourceError)) {
        this.sourceUp = false;
        throw e;
      }
      this.markDown(e.message);
      monitor.countError('source', e.reason);
      log(
        `cycle ${clockTime(end)}: ${rt.source.description} down since ${clockTime(this.downSince!, true)}: ${e.message}${e.retryable ? ' (will retry next cycle)' : ''}${this.snapshot ? `; keeping the last good forecasts, marked stale` : '; no forecasts yet'}`,
        'warn',
      );
      this.failed(end, 'source', e.reason, e.message);
      await this.carryOver(rt, end);
      return undefined;
    }
  }

  /** The source's state after a read, and what the read failed on or dropped. */
  private account(window: HistoryWindow): void {
    if (window.failed.length === 0) {
      this.sourceUp = true;
      this.downSince = undefined;
      this.sourceError = undefined;
    } else {
      this.markDown(`${window.failed[0]!.metric}: ${window.failed[0]!.error.message}`);
    }
    for (const f of window.failed) {
      this.d.monitor.countError('source', f.error.reason);
      this.d.log(`source: ${f.metric}: ${f.error.message}`, 'warn');
    }
    this.d.monitor.countDropped(window.dropped);
  }

  /** The forecasts of the window, or undefined when inference failed (the last good results are then carried over). */
  private async forecast(rt: Runtime, window: HistoryWindow, context: HistoryWindow | undefined, check: Check): Promise<ForecastResult | undefined> {
    let result: ForecastResult;
    try {
      result = await forecastWindow(window, forecastOptions(rt), context);
      check();
    } catch (e) {
      check();
      this.d.monitor.countError('forecast', 'inference');
      const msg = e instanceof Error ? e.message : String(e);
      this.d.log(`forecast: ${msg}; keeping the last good forecasts, marked stale`, 'error');
      this.failed(window.end, 'forecast', 'inference', msg);
      await this.carryOver(rt, window.end);
      return undefined;
    }
    this.d.monitor.countDroppedForecasts(result.errors);
    if (result.errors['inference']) this.d.monitor.countError('forecast', 'inference');
    return result;
  }

  /** Risk per server, scored in slices with the event loop given back in between. */
  private async score(rt: Runtime, window: HistoryWindow, result: ForecastResult, check: Check): Promise<Map<string, InstanceRisk>> {
    const risk = new Map<string, InstanceRisk>();
    for (let k = 0; k < result.instances.length; k += RISK_SLICE) {
      const slice = result.instances.slice(k, k + RISK_SLICE);
      for (const [i, r] of assessFleet(window, slice, (p) => rt.thresholds[p], rt.manifest.quantiles, rt.horizons, this.previousLevels)) risk.set(i, r);
      await new Promise((r) => setImmediate(r));
      check();
    }
    return risk;
  }

  /** Publishes the cycle's results (swapped together), then fills the recent scores' past from the window. */
  private async publish(
    rt: Runtime,
    window: HistoryWindow,
    result: ForecastResult,
    risk: ReadonlyMap<string, InstanceRisk>,
    check: Check,
  ): Promise<ForecastSnapshot> {
    // servers whose data is missing, partial, stale or invalid keep their last good result (stale), then are unknown
    const results = new Map<string, CycleResult>(result.instances.map((i) => [i.instance, { forecast: i, risk: risk.get(i.instance) }]));
    const next = this.publication(rt, result.origin, window, results);
    const exposition = await this.expose(next);
    check();
    const past = this.recent.pastToFill(result.instances, result.origin, rt.config.source.step);
    // swapped together: /metrics and the API never mix two cycles
    this.setSnapshot(next, exposition);
    this.recent.record(next);
    // wall-clock time (not the data clock): alerts compare it with Prometheus' time()
    this.lastSuccess = Date.now() / 1000;
    // after publishing: scoring the past of 5,000 new instances takes seconds
    await this.recent.fill(past, window, (p) => rt.thresholds[p], result.origin, rt.config.source.step);
    return next;
  }

  /** The cycle in one log line, and the `cycle` event. */
  private report(rt: Runtime, result: ForecastResult, next: ForecastSnapshot, seconds: number): void {
    const ready = result.instances.filter((i) => i.ready).length;
    const notFresh = [...(next.states?.values() ?? [])].filter((st) => st.state !== 'fresh');
    let worst: [string, InstanceRisk] | undefined;
    for (const e of next.risk) if (!worst || e[1].level > worst[1].level || (e[1].level === worst[1].level && e[1].score > worst[1].score)) worst = e;
    this.d.log(
      `cycle ${clockTime(result.origin)}: ${result.instances.length} instances (${ready} ready) in ${seconds.toFixed(2)} s, ` +
        `worst ${worst ? `${LEVELS[worst[1].level]!.name} (${worst[0]}, ${worst[1].score.toFixed(0)})` : 'none'}, ` +
        `source ${rt.source.description} ${this.sourceUp ? 'up' : `partly down (${this.sourceError})`}` +
        (notFresh.length > 0
          ? `; ${notFresh.filter((st) => st.state === 'stale').length} stale, ${notFresh.filter((st) => st.state === 'unknown').length} unknown`
          : ''),
    );
    this.d.emit({ type: 'cycle', origin: result.origin, instances: result.instances.length, ready, seconds });
  }

  /** The snapshot to publish at `origin`: fresh results where complete, the last good ones (stale) or nothing (unknown) elsewhere. */
  private publication(rt: Runtime, origin: number, window: HistoryWindow | undefined, results: ReadonlyMap<string, CycleResult> | undefined): ForecastSnapshot {
    const published = this.freshness.update(origin, window, results);
    const risk = new Map<string, InstanceRisk>();
    const states = new Map<string, InstanceState>();
    this.previousLevels.clear();
    for (const p of published) {
      if (p.risk) risk.set(p.forecast.instance, p.risk);
      if (p.level !== undefined) this.previousLevels.set(p.forecast.instance, p.level);
      states.set(p.forecast.instance, { state: p.state, level: p.level, origin: p.origin, goodAt: p.goodAt });
    }
    return {
      origin,
      quantileCount: rt.manifest.quantiles.length,
      horizons: rt.horizons,
      percentiles: rt.percentiles,
      instances: published.map((p) => p.forecast),
      risk,
      states,
      publication: rt.publication,
    };
  }

  /** A cycle that read (or forecast) nothing: every server keeps its last good result while it may, marked stale. */
  private async carryOver(rt: Runtime, origin: number): Promise<void> {
    if (!this.snapshot) return;
    const next = this.publication(rt, origin, undefined, undefined);
    this.setSnapshot(next, await this.expose(next));
    this.recent.forgetMissing(next);
  }

  /** The forecast part of /metrics, uncompressed: its gzip copy decoded as it is read (the rendered text only if the encoder failed). */
  forecastPlain(): ReadonlyArray<Buffer | Readable> {
    if (this.forecastText) return this.forecastText;
    return this.forecastGzip ? [inflateHead(this.forecastGzip)] : [];
  }

  /** A snapshot's exposition, deflated as it is rendered; the text itself if the encoder fails (scrapes are then answered uncompressed). */
  private async expose(next: ForecastSnapshot): Promise<{ gzip?: GzipHead; text?: readonly Buffer[] }> {
    const gzip = await deflateHead(forecastChunks(next));
    return gzip ? { gzip } : { text: await renderForecastsAsync(next) };
  }

  /** Swaps in a snapshot and its exposition. */
  private setSnapshot(next: ForecastSnapshot, exposition: { gzip?: GzipHead; text?: readonly Buffer[] }): void {
    this.snapshot = next;
    this.forecastGzip = exposition.gzip;
    this.forecastText = exposition.text;
  }

  private markDown(error: string): void {
    this.sourceUp = false;
    this.downSince ??= Date.now() / 1000;
    this.sourceError = error;
  }
}

/** A cycle's time for the log: UTC to the minute, or to the second for wall-clock instants. */
function clockTime(t: number, seconds = false): string {
  return (
    new Date(t * 1000)
      .toISOString()
      .slice(0, seconds ? 19 : 16)
      .replace('T', ' ') + 'Z'
  );
}
