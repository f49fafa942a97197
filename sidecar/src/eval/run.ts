/**
 * `npm run eval`: the standard forecasting evaluation (rolling origins, MASE per series and
 * horizon, as M4 / Monash / GIFT-Eval define it; the arithmetic is in metrics.ts) of the shipped
 * model against the baselines operators would otherwise use, on the hosts the model's by-host
 * split held out (model.json `training.data.split.hosts.test`), plus the level-shift and ramp
 * cases of shapes.ts. The model is called through the sidecar's own forecast stage
 * (`forecastWindow`: the same input building, quantile clean-up and climb continuation that are
 * served). Writes EVAL.md, its charts, and a summary into model.json's `evaluation`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { forecastWindow } from '../forecast/forecaster';
import type { BatchRunner, ForecastOptions } from '../forecast/forecaster';
import { loadModelFiles } from '../forecast/manifest';
import { servingContract } from '../forecast/contract';
import type { ServingContract } from '../forecast/contract';
import type { ModelManifest } from '../forecast/manifest';
import { createModelSession } from '../forecast/session';
import type { ModelInputs, ModelOutputs } from '../forecast/session';
import { profileMatcher } from '../profiles/match';
import { DEFAULT_THRESHOLDS, PERCENT_METRICS } from '../profiles/profiles';
import type { MetricName } from '../profiles/profiles';
import type { HistoryWindow, SeriesValues } from '../source/source';
import { fillGaps, lastValue, linearExtrapolation, seasonalNaive } from './baselines';
import { readRealSource, readSimulatorCsv, STEP } from './data';
import type { EvalHost } from './data';
import { maeOver, seasonalNaiveScale, SeriesScores } from './metrics';
import type { WindowForecast } from './metrics';
import { BASELINE_HISTORY, BASELINES, DAY, HORIZONS, MODEL, MODEL_3Q, WEEK } from './protocol';
import type { Baseline } from './protocol';
import { writeReport } from './report';
import { firstCrossing, levelShiftCases, rampCases, SHAPE_HISTORY, shiftHeld } from './shapes';
import type { ShapeCase } from './shapes';

export interface EvalOptions {
  /** The checkout (its docs/model.md gets the accuracy summary when the model directory's files are updated). */
  readonly repoRoot: string;
  readonly modelDir: string;
  readonly dataDir: string;
  readonly simulatorCsv: string | undefined;
  /** Steps between forecast origins on a series. */
  readonly stride: number;
  /** Level-shift and ramp cases each. */
  readonly shapeCases: number;
  /** Where EVAL.md and the charts go (default: the model directory). */
  readonly outDir: string;
  /** Write the summary into model.json's `evaluation`. */
  readonly updateManifest: boolean;
  /** Write the accuracy summary into docs/model.md (a full run of the shipped model). */
  readonly updateDocs: boolean;
  /** Only these real sources (default: all that trained the model). */
  readonly sources?: readonly string[];
  readonly log: (msg: string) => void;
}

/** One evaluated series: a (host, metric) with a MASE scale. */
export interface EvalSeries {
  readonly host: EvalHost;
  readonly metric: MetricName;
  readonly firstOrigin: number;
  readonly origins: number[];
  readonly scores: SeriesScores;
  /** Per origin: the model's 8 h MAE minus the best baseline's on that window (for picking what to plot). */
  readonly excess: number[];
}

export interface SkippedSeries {
  readonly name: string;
  readonly reason: string;
}

/** Where the model stands in one group of series (a source, or several pooled). */
export interface Group {
  readonly name: string;
  readonly series: readonly EvalSeries[];
}

export interface PlotCase {
  readonly title: string;
  readonly history: number[];
  readonly actual: number[];
  readonly p50: number[];
  readonly band: [number[], number[]];
  readonly baseline: { readonly name: string; readonly values: number[] };
}

export interface ShapeResult {
  readonly kind: string;
  readonly cases: number;
  /** Cases that pass (level shift: p50 within 25 % of the new level at every step of 8 h; ramp: crossing no later than 30 min after the line's). */
  readonly passed: number;
  /** The same, without climb continuation (the raw model). */
  readonly passedRaw: number;
  /** Level shifts: mean share of steps within 25 %; ramps: median lateness of the p50 crossing in minutes (∞ when it never crosses). */
  readonly detail: number;
  readonly detailRaw: number;
  readonly examples: PlotCase[];
}

export interface EvalResult {
  readonly manifest: ModelManifest;
  readonly stride: number;
  /** Share of each host's time before the first origin. */
  readonly timeSplit: number;
  readonly sources: readonly string[];
  readonly groups: readonly Group[];
  readonly skipped: readonly SkippedSeries[];
  readonly windows: number;
  readonly missingForecasts: number;
  readonly crossedWindows: number;
  readonly climbedWindows: number;
  readonly worst: readonly PlotCase[];
  readonly worstNames: ReadonlyArray<{ readonly series: string; readonly source: string; readonly ratio: number; readonly best: string }>;
  readonly shapes: readonly ShapeResult[];
  readonly seconds: number;
  readonly msPerSeries: Record<string, number>;
  /** Windows where an augurs model threw (that baseline is not scored there). */
  readonly baselineFailures: Record<string, number>;
}

/** A runner that counts crossing raw quantiles before the forecast stage cleans them up. */
function countingRunner(run: (i: ModelInputs) => Promise<ModelOutputs>, nq: number): BatchRunner & { crossed: number } {
  const r = {
    crossed: 0,
    async run(inputs: ModelInputs): Promise<ModelOutputs> {
      const out = await run(inputs);
      const per = out.quantiles.length / inputs.batch;
      for (let b = 0; b < inputs.batch; b++) {
        const f = out.quantiles.subarray(b * per, (b + 1) * per);
        if (f.some((x, i) => i % nq > 0 && x < f[i - 1]!)) r.crossed++;
      }
      return out;
    },
  };
  return r;
}

/**
 * The reads the sidecar's source would hand the forecast stage at `end` for this model's
 * contract: every metric of each host over the contract's `historyLength` 5-minute steps up to
 * and including the origin, and, for a contract with a context (v2's week), the host's values
 * sampled every `context.stepSeconds` on the same grid, the last at the origin — the point
 * values the source reads at that step (no averaging). Steps before a host's data are NaN.
 */
function modelReads(
  contract: ServingContract,
  end: number,
  entries: ReadonlyArray<{ name: string; profile: string; values: Partial<Record<MetricName, Float64Array>>; origin: number }>,
): { window: HistoryWindow; context: HistoryWindow | undefined } {
  const ln = contract.historyLength;
  const window: HistoryWindow = {
    end,
    step: STEP,
    length: ln,
    instances: new Map(entries.map((e) => [e.name, sample(e.values, e.origin, ln, 1)])),
    dropped: {},
    profiles: new Map(entries.map((e) => [e.name, e.profile])),
    failed: [],
  };
  const c = contract.context;
  if (!c) return { window, context: undefined };
  const every = c.stepSeconds / STEP;
  const context: HistoryWindow = {
    end,
    step: c.stepSeconds,
    length: c.length,
    instances: new Map(entries.map((e) => [e.name, sample(e.values, e.origin, c.length, every)])),
    dropped: {},
    failed: [],
  };
  return { window, context };
}

/** Every metric's `length` values `every` steps apart, the last at row `origin`; NaN before the series starts. */
function sample(values: Partial<Record<MetricName, Float64Array>>, origin: number, length: number, every: number): Partial<Record<MetricName, SeriesValues>> {
  const out: Partial<Record<MetricName, SeriesValues>> = {};
  for (const [m, v] of Object.entries(values) as Array<[MetricName, Float64Array]>) {
    const w = new Float32Array(length);
    for (let k = 0; k < length; k++) {
      const i = origin - (length - 1 - k) * every;
      w[k] = i >= 0 && i < v.length ? v[i]! : NaN;
    }
    out[m] = w;
  }
  return out;
}

interface Augurs {
  readonly ets: (y: Float64Array, horizon: number) => { point: number[]; lower: number[]; upper: number[] };
  readonly mstl: (y: Float64Array, horizon: number) => { point: number[]; lower: number[]; upper: number[] };
}

export async function loadAugurs(): Promise<Augurs> {
  // ESM + WASM packages, loaded with import() from this CommonJS build
  const base = path.dirname(require.resolve('@bsull/augurs'));
  const etsMod = await import('@bsull/augurs/ets');
  const mstlMod = await import('@bsull/augurs/mstl');
  await etsMod.default({ module_or_path: await readFile(path.join(base, 'ets_bg.wasm')) });
  await mstlMod.default({ module_or_path: await readFile(path.join(base, 'mstl_bg.wasm')) });
  type Model = {
    fit(y: Float64Array): void;
    predict(h: number, level?: number): { point: number[]; intervals?: { lower: number[]; upper: number[] } | undefined };
    free(): void;
  };
  const run = (m: Model, y: Float64Array, h: number): { point: number[]; lower: number[]; upper: number[] } => {
    try {
      m.fit(y);
      const f = m.predict(h, 0.8);
      return { point: f.point, lower: f.intervals?.lower ?? f.point, upper: f.intervals?.upper ?? f.point };
    } finally {
      m.free();
    }
  };
  return {
    // additive errors, no trend or season chosen automatically (Z), no season: stable intervals
    ets: (y, h) => run(new etsMod.AutoETS(1, 'AZN'), y, h),
    mstl: (y, h) => run(mstlMod.MSTL.ets([DAY]), y, h),
  };
}

/** A host's metrics that have any observed value. */
function observedMetrics(host: EvalHost): Partial<Record<MetricName, Float64Array>> {
  const out: Partial<Record<MetricName, Float64Array>> = {};
  for (const [m, v] of Object.entries(host.values) as Array<[MetricName, Float64Array]>) if (v.some((x) => Number.isFinite(x))) out[m] = v;
  return out;
}

function bounded(metric: MetricName, f: ArrayLike<number>): Float64Array {
  const hi = PERCENT_METRICS.has(metric) ? 100 : Infinity;
  return Float64Array.from(f, (x) => Math.min(hi, Math.max(0, x)));
}

/** Every baseline's forecast of one window; a baseline whose history is too short is absent. */
function baselineForecasts(
  v: Float64Array,
  origin: number,
  td: number,
  metric: MetricName,
  augurs: Augurs,
  ms: Record<string, number[]>,
  failures: Record<string, number> = {},
): Partial<Record<Baseline, WindowForecast>> {
  const hist = (n: number): Float64Array | undefined => (origin + 1 >= n ? fillGaps(v.subarray(origin + 1 - n, origin + 1)) : undefined);
  const out: Partial<Record<Baseline, WindowForecast>> = {};
  const h1 = hist(1);
  if (h1) out['last value'] = { point: lastValue(h1, td) };
  for (const [name, season] of [
    ['seasonal naive 1d', DAY],
    ['seasonal naive 1w', WEEK],
  ] as const) {
    const h = hist(season);
    const f = h && seasonalNaive(h, td, season);
    if (f) out[name] = { point: f };
  }
  for (const [name, k] of [
    ['predict_linear 1h', 12],
    ['predict_linear 6h', 72],
  ] as const) {
    const h = hist(k);
    if (h) out[name] = { point: bounded(metric, linearExtrapolation(h, td, k)) };
  }
  for (const [name, fn] of [
    ['AutoETS (AZN)', augurs.ets],
    ['MSTL (1d)', augurs.mstl],
  ] as const) {
    const h = hist(BASELINE_HISTORY[name]);
    if (!h) continue;
    const t0 = performance.now();
    let r: { point: number[]; lower: number[]; upper: number[] };
    try {
      r = fn(h, td);
    } catch {
      failures[name] = (failures[name] ?? 0) + 1;
      continue;
    }
    (ms[name] ??= []).push(performance.now() - t0);
    const point = bounded(metric, r.point);
    out[name] = { point, taus: [0.1, 0.5, 0.9], quantiles: [bounded(metric, r.lower), point, bounded(metric, r.upper)] };
  }
  return out;
}

/** The model's quantiles of one series from a forecast result: one array per quantile, `td` steps each. */
function quantileColumns(q: Float32Array, td: number, nq: number): Float64Array[] {
  return Array.from({ length: nq }, (_, j) => Float64Array.from({ length: td }, (_, h) => q[h * nq + j]!));
}

interface Candidate {
  host: EvalHost;
  metric: MetricName;
  origins: number[];
  firstOrigin: number;
  scale: number;
}

/** Series of `hosts` with a MASE scale, and their origins: from the first step of the held-out last part of the host's time, every `stride` steps. */
function candidates(hosts: readonly EvalHost[], te: number, td: number, stride: number, timeSplit: number, skipped: SkippedSeries[]): Candidate[] {
  const out: Candidate[] = [];
  for (const host of hosts) {
    const first = Math.floor(host.length * timeSplit) - 1;
    for (const metric of Object.keys(host.values) as MetricName[]) {
      const v = host.values[metric];
      if (!v.some((x) => Number.isFinite(x))) continue;
      const name = `${host.name} ${metric}`;
      const scale = seasonalNaiveScale(v.subarray(0, first + 1), DAY);
      if (!(scale > 0)) {
        skipped.push({
          name,
          reason: Number.isNaN(scale)
            ? 'no day-apart pairs before the first origin'
            : 'constant daily pattern before the first origin (seasonal-naive scale 0)',
        });
        continue;
      }
      const origins: number[] = [];
      for (let o = first; o + td < host.length; o += stride) {
        if (o - te + 1 < 0) continue;
        let ok = true;
        for (let k = o + 1; k <= o + td && ok; k++) ok = Number.isFinite(v[k]!);
        if (!ok) continue;
        let seen = 0;
        for (let k = o - te + 1; k <= o; k++) if (Number.isFinite(v[k]!)) seen++;
        if (seen >= 0.8 * te) origins.push(o);
      }
      if (origins.length === 0) skipped.push({ name, reason: 'no origin with a fully observed 8 h ahead and 80 % of the encoder observed' });
      else out.push({ host, metric, origins, firstOrigin: first, scale });
    }
  }
  return out;
}

export async function runEval(o: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  const model = await loadModelFiles(o.modelDir);
  const manifest = model.manifest as ModelManifest & {
    training?: { data?: { split?: { hosts?: { test?: string[] }; time_split?: number }; real_sources?: string[] } };
  };
  const split = manifest.training?.data?.split;
  const test = new Set(split?.hosts?.test ?? []);
  if (test.size === 0) throw new Error(`${o.modelDir}/model.json: training.data.split.hosts.test is empty; cannot tell held-out hosts`);
  const timeSplit = split?.time_split ?? 0.75;
  const te = manifest.encoder_length;
  const td = manifest.decoder_length;
  const taus = manifest.quantiles;
  const nq = taus.length;
  const maxH = Math.max(...HORIZONS.map(([, h]) => h));
  if (td < maxH) throw new Error(`the model forecasts ${td} steps; the evaluation needs ${maxH} (8 h)`);
  const session = await createModelSession(model, 'cpu', 2);
  const runner = countingRunner((i) => session.run(i), nq);
  const profileOf = profileMatcher(undefined);
  const options: ForecastOptions = {
    manifest,
    runner,
    profileOf,
    // the served default (forecast.min_history 19h); the windows here have ≥ 80 % of the encoder
    minHistoryPoints: Math.ceil((19 * 3600) / STEP),
    batchSize: 64,
    criticalOf: (p, m) => DEFAULT_THRESHOLDS[p][m].critical,
  };
  const augurs = await loadAugurs();
  const skipped: SkippedSeries[] = [];
  const sources = o.sources ?? manifest.training?.data?.real_sources ?? [];
  const hosts: EvalHost[] = [];
  for (const source of sources) {
    o.log(`reading ${source} (held-out hosts only)`);
    hosts.push(...(await readRealSource(path.join(o.dataDir, source), test)));
  }
  if (o.simulatorCsv) {
    o.log(`reading ${o.simulatorCsv} (held-out servers only)`);
    hosts.push(...(await readSimulatorCsv(o.simulatorCsv, test)));
  }
  const cands = candidates(hosts, te, td, o.stride, timeSplit, skipped);
  const horizonSteps = HORIZONS.map(([, h]) => h);
  const series: EvalSeries[] = cands.map((c) => ({
    host: c.host,
    metric: c.metric,
    firstOrigin: c.firstOrigin,
    origins: [],
    scores: new SeriesScores(`${c.host.name} ${c.metric}`, c.host.source, c.scale, horizonSteps),
    excess: [],
  }));
  const total = cands.reduce((s, c) => s + c.origins.length, 0);
  o.log(`${series.length} series (${skipped.length} skipped), ${total} windows, origins every ${o.stride} steps`);

  // origins grouped by time: one forecast-stage call per origin time, every host with a window then
  const byEnd = new Map<number, Array<{ c: Candidate; s: EvalSeries; origin: number }>>();
  cands.forEach((c, i) => {
    for (const origin of c.origins) {
      const end = c.host.start + origin * STEP;
      let list = byEnd.get(end);
      if (!list) byEnd.set(end, (list = []));
      list.push({ c, s: series[i]!, origin });
    }
  });
  const ms: Record<string, number[]> = {};
  const failures: Record<string, number> = {};
  let done = 0;
  let missing = 0;
  let climbed = 0;
  let tftMs = 0;
  let tftSeries = 0;
  const contract = servingContract(manifest);
  for (const end of [...byEnd.keys()].sort((a, b) => a - b)) {
    const jobs = byEnd.get(end)!;
    const hostsHere = new Map<string, { name: string; profile: string; values: Partial<Record<MetricName, Float64Array>>; origin: number }>();
    for (const j of jobs) {
      if (hostsHere.has(j.c.host.name)) continue;
      hostsHere.set(j.c.host.name, { name: j.c.host.name, profile: j.c.host.profile, values: observedMetrics(j.c.host), origin: j.origin });
    }
    const { window, context } = modelReads(contract, end, [...hostsHere.values()]);
    const t1 = performance.now();
    const served = await forecastWindow(window, options, context);
    const raw = await forecastWindow(window, { ...options, criticalOf: undefined }, context);
    tftMs += (performance.now() - t1) / 2;
    const inst = new Map(served.instances.map((i) => [i.instance, i]));
    const rawInst = new Map(raw.instances.map((i) => [i.instance, i]));
    tftSeries += jobs.length;
    for (const j of jobs) {
      const f = inst.get(j.c.host.name)?.forecasts[j.c.metric];
      if (!f) {
        missing++;
        continue;
      }
      const rf = rawInst.get(j.c.host.name)?.forecasts[j.c.metric];
      if (rf && rf.quantiles.some((x, i) => x !== f.quantiles[i])) climbed++;
      const v = j.c.host.values[j.c.metric];
      const actual = v.subarray(j.origin + 1, j.origin + 1 + maxH);
      const cols = quantileColumns(f.quantiles, td, nq);
      const i50 = taus.indexOf(0.5);
      const tft: WindowForecast = { point: cols[i50]!, taus, quantiles: cols };
      const b = baselineForecasts(v, j.origin, td, j.c.metric, augurs, ms, failures);
      j.s.scores.add(MODEL, actual, tft);
      const i10 = taus.indexOf(0.1);
      const i90 = taus.indexOf(0.9);
      if (i10 >= 0 && i90 >= 0) j.s.scores.add(MODEL_3Q, actual, { point: cols[i50]!, taus: [0.1, 0.5, 0.9], quantiles: [cols[i10]!, cols[i50]!, cols[i90]!] });
      let bestErr = Infinity;
      for (const name of BASELINES) {
        const bf = b[name];
        if (!bf) continue;
        j.s.scores.add(name, actual, bf);
        bestErr = Math.min(bestErr, maeOver(actual, bf.point, maxH));
      }
      j.s.origins.push(j.origin);
      j.s.excess.push(maeOver(actual, tft.point, maxH) - bestErr);
      if (++done % 1000 === 0) o.log(`${done}/${total} windows (${((performance.now() - t0) / 60000).toFixed(1)} min)`);
    }
  }
  o.log(`${done} windows scored in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  const used = series.filter((s) => s.origins.length > 0);
  const real = used.filter((s) => s.host.source !== 'simulator');
  const groups: Group[] = [];
  if (real.length) groups.push({ name: 'pooled real (held-out hosts of all real sources)', series: real });
  for (const src of sources) {
    const g = used.filter((s) => s.host.source === src);
    if (g.length) groups.push({ name: src, series: g });
  }
  const sim = used.filter((s) => s.host.source === 'simulator');
  if (sim.length) groups.push({ name: 'simulator', series: sim });

  // the worst series: highest mean over horizons of the model's MASE ÷ that series' best baseline
  const ratioOf = (s: EvalSeries): { ratio: number; best: string } => {
    let sum = 0;
    const wins = new Map<string, number>();
    HORIZONS.forEach((_, k) => {
      let best = '';
      let floor = Infinity;
      for (const b of BASELINES) {
        const m = s.scores.mase(b, k);
        if (m < floor) {
          floor = m;
          best = b;
        }
      }
      sum += s.scores.mase(MODEL, k) / floor;
      wins.set(best, (wins.get(best) ?? 0) + 1);
    });
    return { ratio: sum / HORIZONS.length, best: [...wins.entries()].sort((a, b) => b[1] - a[1])[0]![0] };
  };
  const ranked = (list: EvalSeries[], n: number): Array<{ s: EvalSeries; ratio: number; best: string }> =>
    list
      .map((s) => ({ s, ...ratioOf(s) }))
      .filter((x) => Number.isFinite(x.ratio))
      .sort((a, b) => b.ratio - a.ratio)
      .slice(0, n);
  const worst = [...ranked(real, 6), ...ranked(sim, 4)];
  const worstPlots: PlotCase[] = [];
  for (const w of worst) {
    // the window where the model loses most to the best baseline on that window
    let k = 0;
    w.s.excess.forEach((e, i) => (e > w.s.excess[k]! ? (k = i) : undefined));
    const origin = w.s.origins[k]!;
    const host = w.s.host;
    const reads = modelReads(contract, host.start + origin * STEP, [{ name: host.name, profile: host.profile, values: observedMetrics(host), origin }]);
    const r = await forecastWindow(reads.window, options, reads.context);
    const f = r.instances[0]?.forecasts[w.s.metric];
    if (!f) continue;
    const cols = quantileColumns(f.quantiles, td, nq);
    const v = host.values[w.s.metric];
    const bf = baselineForecasts(v, origin, td, w.s.metric, augurs, {})[w.best as Baseline];
    worstPlots.push({
      title: `${w.s.scores.series} (${host.source}): mean MASE ratio ${w.ratio.toFixed(2)} to its best baseline`,
      history: Array.from(v.subarray(Math.max(0, origin - 2 * DAY + 1), origin + 1)),
      actual: Array.from(v.subarray(origin + 1, origin + 1 + maxH)),
      p50: Array.from(cols[taus.indexOf(0.5)]!),
      band: [Array.from(cols[Math.max(0, taus.indexOf(0.1))]!), Array.from(cols[Math.max(0, taus.indexOf(0.9))]!)],
      baseline: { name: w.best, values: bf ? Array.from(bf.point) : [] },
    });
  }

  const shapes = o.shapeCases > 0 ? await evaluateShapes(o.shapeCases, options, manifest, augurs) : [];
  await session.release();
  const msPerSeries: Record<string, number> = { [MODEL]: tftMs / Math.max(1, tftSeries) };
  for (const [k, v] of Object.entries(ms)) msPerSeries[k] = v.reduce((a, b) => a + b, 0) / v.length;
  const result: EvalResult = {
    manifest,
    stride: o.stride,
    timeSplit,
    sources,
    groups,
    skipped,
    windows: done,
    missingForecasts: missing,
    crossedWindows: runner.crossed,
    climbedWindows: climbed,
    worst: worstPlots,
    worstNames: worst.map((w) => ({ series: w.s.scores.series, source: w.s.host.source, ratio: w.ratio, best: w.best })),
    shapes,
    seconds: (performance.now() - t0) / 1000,
    msPerSeries,
    baselineFailures: failures,
  };
  await writeReport(o, result);
  return result;
}

/** The level-shift and ramp cases through the forecast stage, as served and without climb continuation. */
async function evaluateShapes(count: number, options: ForecastOptions, manifest: ModelManifest, augurs: Augurs): Promise<ShapeResult[]> {
  const td = manifest.decoder_length;
  const nq = manifest.quantiles.length;
  const i50 = manifest.quantiles.indexOf(0.5);
  const i10 = Math.max(0, manifest.quantiles.indexOf(0.1));
  const i90 = Math.max(0, manifest.quantiles.indexOf(0.9));
  const steps = Math.min(td, 96);
  const contract = servingContract(manifest);
  const end = 1790000000 - (1790000000 % STEP);
  const run = async (cases: readonly ShapeCase[], served: boolean): Promise<Map<string, Float32Array>> => {
    // the origin is the last of the case's SHAPE_HISTORY values; what lies after it is not read
    const { window, context } = modelReads(
      contract,
      end,
      cases.map((c) => ({ name: c.name, profile: c.profile, values: c.values, origin: SHAPE_HISTORY - 1 })),
    );
    const r = await forecastWindow(window, served ? options : { ...options, criticalOf: undefined }, context);
    const out = new Map<string, Float32Array>();
    for (const inst of r.instances) {
      const c = cases.find((x) => x.name === inst.instance)!;
      const f = inst.forecasts[c.metric];
      if (f) out.set(c.name, f.quantiles);
    }
    return out;
  };
  const p50 = (q: Float32Array | undefined): Float64Array => (q ? quantileColumns(q, td, nq)[i50]! : new Float64Array(td).fill(NaN));
  const plot = (c: ShapeCase, q: Float32Array | undefined, title: string): PlotCase => {
    const v = c.values[c.metric]!;
    const cols = q ? quantileColumns(q, td, nq) : [];
    const hist = fillGaps(v.subarray(0, SHAPE_HISTORY));
    const ets = augurs.ets(hist.subarray(SHAPE_HISTORY - BASELINE_HISTORY['AutoETS (AZN)']), td);
    return {
      title,
      history: Array.from(v.subarray(SHAPE_HISTORY - DAY, SHAPE_HISTORY)),
      actual: Array.from(v.subarray(SHAPE_HISTORY, SHAPE_HISTORY + steps)),
      p50: Array.from(p50(q)),
      band: [Array.from(cols[i10] ?? []), Array.from(cols[i90] ?? [])],
      baseline: { name: 'AutoETS (AZN)', values: Array.from(bounded(c.metric, ets.point)) },
    };
  };
  const results: ShapeResult[] = [];
  const shifts = levelShiftCases(count, steps);
  const ramps = rampCases(count, steps);
  const [shiftServed, shiftRaw, rampServed, rampRaw] = [await run(shifts, true), await run(shifts, false), await run(ramps, true), await run(ramps, false)];
  for (const kind of ['level shift up', 'level shift down'] as const) {
    const cases = shifts.filter((c) => c.kind === kind);
    const score = (m: Map<string, Float32Array>): { passed: number; share: number; failed: ShapeCase[] } => {
      let passed = 0;
      let share = 0;
      const failed: ShapeCase[] = [];
      for (const c of cases) {
        const r = shiftHeld(p50(m.get(c.name)), c.level, steps);
        if (r.held) passed++;
        else failed.push(c);
        share += r.share;
      }
      return { passed, share: share / Math.max(1, cases.length), failed };
    };
    const s = score(shiftServed);
    const r = score(shiftRaw);
    const ex = s.failed
      .slice(0, 2)
      .map((c) =>
        plot(c, shiftServed.get(c.name), `failed: ${c.name} (${kind}, ${c.metric}, ${c.profile}): new level ${c.level.toFixed(0)} %, the p50 leaves ±25 %`),
      );
    results.push({ kind, cases: cases.length, passed: s.passed, passedRaw: r.passed, detail: s.share, detailRaw: r.share, examples: ex });
  }
  const lateText = (crossing: number | undefined, real: number): string =>
    crossing === undefined ? 'never within 8 h' : `${(((crossing - real) * STEP) / 3600).toFixed(1)} h later`;
  const rampScore = (m: Map<string, Float32Array>): { passed: number; lateness: number; failed: ShapeCase[] } => {
    let passed = 0;
    const late: number[] = [];
    const failed: ShapeCase[] = [];
    for (const c of ramps) {
      const h = firstCrossing(p50(m.get(c.name)), c.level, steps);
      const l = h === undefined ? Infinity : (h - c.crossingStep!) * (STEP / 60);
      late.push(l);
      if (l <= 30) passed++;
      else failed.push(c);
    }
    late.sort((a, b) => a - b);
    const k = Math.floor(late.length / 2);
    return { passed, lateness: late.length % 2 ? late[k]! : (late[k - 1]! + late[k]!) / 2, failed };
  };
  const s = rampScore(rampServed);
  const r = rampScore(rampRaw);
  const ex = s.failed
    .slice(0, 2)
    .map((c) =>
      plot(
        c,
        rampServed.get(c.name),
        `failed: ${c.name} (ramp, ${c.metric}, ${c.profile}): crosses ${c.level} % ${((c.crossingStep! * STEP) / 3600).toFixed(1)} h ahead, the p50 ${lateText(firstCrossing(p50(rampServed.get(c.name)), c.level, steps), c.crossingStep!)}`,
      ),
    );
  results.push({ kind: 'ramp', cases: ramps.length, passed: s.passed, passedRaw: r.passed, detail: s.lateness, detailRaw: r.lateness, examples: ex });
  return results;
}
