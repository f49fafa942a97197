/**
 * `npm run eval`: rolling-origin backtest of the shipped model against the baselines operators
 * would otherwise use, on hosts the model was not trained on (model.json's test split), in the
 * last quarter of their time. Writes EVAL.md, charts, and the scores into model.json.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PERCENT_METRICS } from '../profiles/profiles';
import type { MetricName } from '../profiles/profiles';
import { loadModelFiles } from '../forecast/manifest';
import { buildModelInputs } from '../forecast/inputs';
import { continueSteadyClimb } from '../forecast/climb';
import { DEFAULT_THRESHOLDS } from '../profiles/profiles';
import type { SeriesWindow } from '../forecast/inputs';
import { createModelSession } from '../forecast/session';
import type { ModelSession } from '../forecast/session';
import { readRealSource, readSimulatorCsv, STEP } from './data';
import type { EvalHost } from './data';
import { fillGaps, lastValue, linearExtrapolation, seasonalNaive, seasonalNaiveScale } from './baselines';
import { renderCharts } from './charts';

export const HORIZONS: ReadonlyArray<readonly [string, number]> = [['30m', 6], ['1h', 12], ['2h', 24], ['4h', 48], ['8h', 96]];
const MODELS = ['TFT (p50)', 'last value', 'seasonal naive (1d)', 'linear 1h (predict_linear)', 'linear 6h (predict_linear)', 'augurs AutoETS', 'augurs MSTL (1d)'] as const;
type ModelName = (typeof MODELS)[number];

export interface EvalOptions {
  readonly modelDir: string;
  readonly dataDir: string;
  readonly simulatorCsv: string | undefined;
  /** Steps between origins on a host. */
  readonly stride: number;
  readonly maxWindowsPerGroup: number;
  readonly log: (msg: string) => void;
}

/** One forecast origin of one (host, metric): everything every model needs, and the truth. */
interface Window {
  readonly host: EvalHost;
  readonly metric: MetricName;
  /** Row of the last encoder step. */
  readonly origin: number;
  readonly actual: Float64Array;
  readonly scale: number;
}

interface Forecasts {
  point: Float64Array;
  lower?: Float64Array;
  upper?: Float64Array;
  quantiles?: Float64Array[];
}

interface Accumulator {
  absScaled: number[];
  covered: number[];
  pinball: number[];
}

function windowsOf(hosts: readonly EvalHost[], te: number, td: number, stride: number, timeSplit: number): Window[] {
  const out: Window[] = [];
  for (const host of hosts) {
    const cut = Math.floor(host.length * timeSplit);
    for (const metric of Object.keys(host.values) as MetricName[]) {
      const v = host.values[metric];
      if (!v.some((x) => Number.isFinite(x))) continue;
      // first decoder step in the held-out last part of the host's time, as in training's split
      for (let o = cut - 1; o + td < host.length; o += stride) {
        if (o - te + 1 < 0) continue;
        const actual = v.slice(o + 1, o + 1 + td);
        if (!actual.every((x) => Number.isFinite(x))) continue;
        let seen = 0;
        for (let k = o - te + 1; k <= o; k++) if (Number.isFinite(v[k]!)) seen++;
        if (seen < 0.8 * te) continue;
        const scale = seasonalNaiveScale(v.subarray(Math.max(0, o - 7 * 288 + 1), o + 1));
        if (!(scale > 0)) continue; // a flat history has no MASE scale: skipped and counted
        out.push({ host, metric, origin: o, actual, scale });
      }
    }
  }
  return out;
}

function bounded(metric: MetricName, f: Float64Array): Float64Array {
  const hi = PERCENT_METRICS.has(metric) ? 100 : Infinity;
  return f.map((x) => Math.min(hi, Math.max(0, x)));
}

interface Augurs {
  readonly ets: (y: Float64Array, horizon: number) => { point: number[]; lower: number[]; upper: number[] };
  readonly mstl: (y: Float64Array, horizon: number) => { point: number[]; lower: number[]; upper: number[] };
}

async function loadAugurs(): Promise<Augurs> {
  // ESM + WASM packages, loaded with import() from this CommonJS build
  const base = path.dirname(require.resolve('@bsull/augurs'));
  const etsMod = await import('@bsull/augurs/ets');
  const mstlMod = await import('@bsull/augurs/mstl');
  await etsMod.default({ module_or_path: await readFile(path.join(base, 'ets_bg.wasm')) });
  await mstlMod.default({ module_or_path: await readFile(path.join(base, 'mstl_bg.wasm')) });
  type Model = { fit(y: Float64Array): void; predict(h: number, level?: number): { point: number[]; intervals?: { lower: number[]; upper: number[] } | undefined }; free(): void };
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
    ets: (y, h) => run(new etsMod.AutoETS(1, 'ZZN'), y, h),
    mstl: (y, h) => run(mstlMod.MSTL.ets([288]), y, h),
  };
}

async function tftForecasts(session: ModelSession, windows: readonly Window[], te: number, td: number, quantiles: readonly number[]): Promise<{ forecasts: Forecasts[]; msPerForecast: number; climbed: number; crossed: number }> {
  let climbed = 0;
  let crossed = 0;
  const out: Forecasts[] = [];
  const q = quantiles.length;
  const i10 = quantiles.indexOf(0.1);
  const i50 = quantiles.indexOf(0.5);
  const i90 = quantiles.indexOf(0.9);
  let ms = 0;
  for (let s = 0; s < windows.length; s += 64) {
    const chunk = windows.slice(s, s + 64);
    const series: SeriesWindow[] = chunk.map((w) => ({
      profile: w.host.profile,
      metric: w.metric,
      origin: w.host.start + w.origin * STEP,
      values: Object.fromEntries(Object.entries(w.host.values).map(([m, v]) => [m, v.subarray(w.origin - te + 1, w.origin + 1)])),
    }));
    const inputs = buildModelInputs(series, { encoderLength: te, decoderLength: td, stepSeconds: STEP });
    const t0 = performance.now();
    const res = await session.run(inputs);
    ms += performance.now() - t0;
    chunk.forEach((w, k) => {
      // scored as served: with climb continuation (forecast/climb.ts)
      const f = res.quantiles.slice(k * td * q, (k + 1) * td * q);
      // raw model outputs: any quantile below the one before it, at any step?
      if (f.some((x, i) => i % q > 0 && x < f[i - 1]!)) crossed++;
      const recent = series[k]!.values[w.metric];
      if (recent && continueSteadyClimb(f, recent, w.metric, STEP, quantiles, DEFAULT_THRESHOLDS[w.host.profile][w.metric].critical)) climbed++;
      const col = (j: number): Float64Array => Float64Array.from({ length: td }, (_, h) => f[h * q + j]!);
      out.push({ point: col(i50), lower: col(i10), upper: col(i90), quantiles: quantiles.map((_, j) => col(j)) });
    });
  }
  return { forecasts: out, msPerForecast: ms / Math.max(1, windows.length), climbed, crossed };
}

function score(acc: Accumulator, w: Window, f: Forecasts, h: number, quantiles: readonly number[] | undefined): void {
  if (h > w.actual.length) return;
  const y = w.actual[h - 1]!;
  acc.absScaled.push(Math.abs(y - f.point[h - 1]!) / w.scale);
  if (f.lower && f.upper) acc.covered.push(y >= f.lower[h - 1]! && y <= f.upper[h - 1]! ? 1 : 0);
  if (f.quantiles && quantiles) {
    let p = 0;
    quantiles.forEach((tau, j) => {
      const d = y - f.quantiles![j]![h - 1]!;
      p += Math.max(tau * d, (tau - 1) * d);
    });
    acc.pinball.push(p / quantiles.length / w.scale);
  }
}

const mean = (a: readonly number[]): number => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN);

export interface GroupResult {
  readonly group: string;
  readonly windows: number;
  readonly hosts: number;
  /** model -> horizon -> { mase, coverage, pinball } */
  readonly scores: Record<string, Record<string, { mase: number; coverage: number; pinball: number }>>;
  readonly msPerForecast: Record<string, number>;
  /** Windows where any of the TFT's raw quantile outputs cross at any step (must be 0). */
  readonly crossedWindows: number;
  /** Windows whose TFT forecast climb continuation raised (forecast/climb.ts). */
  readonly climbedWindows: number;
  readonly examples: Array<{ title: string; history: number[]; actual: number[]; p50: number[]; bands: Array<[number[], number[]]> }>;
}

async function evaluateGroup(group: string, hosts: readonly EvalHost[], session: ModelSession, augurs: Augurs, o: EvalOptions, te: number, td: number, quantiles: readonly number[], timeSplit: number): Promise<GroupResult> {
  let windows = windowsOf(hosts, te, td, o.stride, timeSplit);
  if (windows.length > o.maxWindowsPerGroup) {
    // evenly thinned, deterministic
    const keep = o.maxWindowsPerGroup;
    windows = Array.from({ length: keep }, (_, i) => windows[Math.floor((i * windows.length) / keep)]!);
  }
  o.log(`${group}: ${windows.length} windows from ${new Set(windows.map((w) => w.host.name)).size} hosts`);
  const tft = await tftForecasts(session, windows, te, td, quantiles);
  const acc: Record<string, Record<string, Accumulator>> = {};
  for (const m of MODELS) acc[m] = Object.fromEntries(HORIZONS.map(([name]) => [name, { absScaled: [], covered: [], pinball: [] }]));
  const ms: Record<string, number[]> = { 'augurs AutoETS': [], 'augurs MSTL (1d)': [] };
  const examples: GroupResult['examples'] = [];
  const q3 = [0.1, 0.5, 0.9];
  const crossedWindows = tft.crossed;
  windows.forEach((w, i) => {
    const v = w.host.values[w.metric];
    const hist = fillGaps(v.subarray(Math.max(0, w.origin - 3 * 288 + 1), w.origin + 1));
    const f: Record<ModelName, Forecasts> = {
      'TFT (p50)': tft.forecasts[i]!,
      'last value': { point: lastValue(hist, td) },
      'seasonal naive (1d)': { point: seasonalNaive(hist, td) },
      'linear 1h (predict_linear)': { point: bounded(w.metric, linearExtrapolation(hist, td, 12)) },
      'linear 6h (predict_linear)': { point: bounded(w.metric, linearExtrapolation(hist, td, 72)) },
      'augurs AutoETS': { point: new Float64Array() },
      'augurs MSTL (1d)': { point: new Float64Array() },
    };
    for (const [name, fn] of [['augurs AutoETS', augurs.ets], ['augurs MSTL (1d)', augurs.mstl]] as const) {
      const t0 = performance.now();
      const r = fn(name === 'augurs AutoETS' ? hist.subarray(hist.length - 576) : hist, td);
      ms[name]!.push(performance.now() - t0);
      const point = bounded(w.metric, Float64Array.from(r.point));
      const lower = bounded(w.metric, Float64Array.from(r.lower));
      const upper = bounded(w.metric, Float64Array.from(r.upper));
      f[name] = { point, lower, upper, quantiles: [lower, point, upper] };
    }
    for (const m of MODELS) {
      for (const [hn, h] of HORIZONS) {
        const tftQ = m === 'TFT (p50)' ? quantiles : undefined;
        score(acc[m]![hn]!, w, f[m], h, m === 'TFT (p50)' ? tftQ : f[m].quantiles ? q3 : undefined);
      }
    }
    if (i % Math.max(1, Math.floor(windows.length / 4)) === 0 && examples.length < 4) {
      const t = tft.forecasts[i]!;
      const qi = (x: number): Float64Array => t.quantiles![quantiles.indexOf(x)]!;
      examples.push({
        title: `${w.host.name} ${w.metric}`,
        history: Array.from(v.subarray(Math.max(0, w.origin - 287), w.origin + 1)),
        actual: Array.from(w.actual),
        p50: Array.from(t.point),
        bands: [[Array.from(qi(0.05)), Array.from(qi(0.95))], [Array.from(qi(0.1)), Array.from(qi(0.9))], [Array.from(qi(0.25)), Array.from(qi(0.75))]],
      });
    }
    if ((i + 1) % 200 === 0) o.log(`${group}: ${i + 1}/${windows.length} windows`);
  });
  const scores: GroupResult['scores'] = {};
  for (const m of MODELS) {
    scores[m] = Object.fromEntries(
      HORIZONS.map(([hn]) => {
        const a = acc[m]![hn]!;
        return [hn, { mase: mean(a.absScaled), coverage: mean(a.covered), pinball: mean(a.pinball) }];
      }),
    );
  }
  return {
    group,
    windows: windows.length,
    hosts: new Set(windows.map((w) => w.host.name)).size,
    scores,
    msPerForecast: { 'TFT (p50)': tft.msPerForecast, 'augurs AutoETS': mean(ms['augurs AutoETS']!), 'augurs MSTL (1d)': mean(ms['augurs MSTL (1d)']!) },
    crossedWindows,
    climbedWindows: tft.climbed,
    examples,
  };
}

/** Series per second through onnxruntime-node at several batch sizes (2 threads, CPU). */
async function measureThroughput(session: ModelSession, te: number, td: number): Promise<Array<{ batch: number; seriesPerSecond: number }>> {
  const out: Array<{ batch: number; seriesPerSecond: number }> = [];
  for (const batch of [1, 16, 64, 256]) {
    const values = { cpu: Float64Array.from({ length: te }, (_, k) => 40 + 10 * Math.sin(k / 20)), memory: new Float64Array(te).fill(50) };
    const windows: SeriesWindow[] = Array.from({ length: batch }, () => ({ profile: 'generic', metric: 'cpu', origin: 1.79e9, values }));
    const inputs = buildModelInputs(windows, { encoderLength: te, decoderLength: td, stepSeconds: STEP });
    await session.run(inputs);
    const reps = Math.max(2, Math.ceil(512 / batch));
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await session.run(inputs);
    out.push({ batch, seriesPerSecond: (batch * reps) / ((performance.now() - t0) / 1000) });
  }
  return out;
}

export async function runEval(o: EvalOptions): Promise<{ groups: GroupResult[]; throughput: Array<{ batch: number; seriesPerSecond: number }> }> {
  const model = await loadModelFiles(o.modelDir);
  const manifest = model.manifest as typeof model.manifest & { training?: { data?: { split?: { hosts?: { test?: string[] }; time_split?: number }; real_sources?: string[] } } };
  const split = manifest.training?.data?.split;
  const test = new Set(split?.hosts?.test ?? []);
  if (test.size === 0) throw new Error(`${o.modelDir}/model.json: training.data.split.hosts.test is empty; cannot tell held-out hosts`);
  const timeSplit = split?.time_split ?? 0.75;
  const te = manifest.encoder_length;
  const td = manifest.decoder_length;
  const session = await createModelSession(model, 'cpu', 2);
  const augurs = await loadAugurs();
  const groups: GroupResult[] = [];
  const real: EvalHost[] = [];
  for (const source of manifest.training?.data?.real_sources ?? []) {
    o.log(`reading ${source} (held-out hosts only)`);
    real.push(...(await readRealSource(path.join(o.dataDir, source), test)));
  }
  if (real.length) groups.push(await evaluateGroup('held-out real hosts', real, session, augurs, o, te, td, manifest.quantiles, timeSplit));
  if (o.simulatorCsv) {
    const sim = await readSimulatorCsv(o.simulatorCsv, test);
    if (sim.length) groups.push(await evaluateGroup('held-out simulator servers', sim, session, augurs, o, te, td, manifest.quantiles, timeSplit));
  }
  const throughput = await measureThroughput(session, te, td);
  await session.release();
  await writeReport(o.modelDir, groups, throughput);
  return { groups, throughput };
}

const fmt = (x: number, d = 3): string => (!Number.isFinite(x) ? '—' : Math.abs(x) >= 1e4 ? x.toExponential(1) : x.toFixed(d));

/** Every place a baseline beats the TFT or the band misses its nominal range, stated plainly. */
export function weaknesses(groups: readonly GroupResult[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const tft = g.scores['TFT (p50)']!;
    if (g.crossedWindows > 0) out.push(`${g.group}: quantiles cross in ${g.crossedWindows} windows.`);
    for (const [h] of HORIZONS) {
      const better = Object.entries(g.scores)
        .filter(([m, s]) => m !== 'TFT (p50)' && s[h]!.mase < tft[h]!.mase)
        .map(([m, s]) => `${m} (${fmt(s[h]!.mase)})`);
      if (better.length > 0) out.push(`${g.group}, ${h}: ${better.join(', ')} beat the TFT's MASE ${fmt(tft[h]!.mase)}.`);
      const c = tft[h]!.coverage;
      if (c < 0.75 || c > 0.85) out.push(`${g.group}, ${h}: p10–p90 coverage ${fmt(c)} is outside 0.75–0.85 (band too ${c > 0.85 ? 'wide' : 'narrow'}).`);
    }
  }
  return out.length > 0 ? out : ['No baseline beats the TFT at any horizon, and coverage is within 0.75–0.85 everywhere.'];
}

async function writeReport(dir: string, groups: readonly GroupResult[], throughput: Array<{ batch: number; seriesPerSecond: number }>): Promise<void> {
  const jsonPath = path.join(dir, 'model.json');
  const manifest = JSON.parse(await readFile(jsonPath, 'utf8')) as Record<string, unknown>;
  const charts = await renderCharts(dir, groups);
  let md = `# ${String(manifest['name'])} — evaluation\n\n`;
  md += `Generated by \`npm run eval\` on ${new Date().toISOString().slice(0, 10)}. Rolling-origin backtest: forecasts every ${'8 h'} from origins in the last 25 % of the time of hosts the model never saw in training (model.json \`training.data.split.hosts.test\`). `;
  md += 'MASE is the error at that lead time divided by the host\'s in-sample seasonal-naive (1 day) error over the week before the origin; below 1 beats a naive daily repeat. ';
  md += 'Coverage is the share of actuals inside the p10–p90 band (nominal 0.80). Pinball is the mean pinball loss over the model\'s quantiles (TFT: all seven; augurs: p10, p50, p90 from its 80 % interval), scaled like MASE. ';
  md += 'Baselines see up to 3 days of history (AutoETS the last 2), more than the TFT\'s 24 h encoder. Forecasts of percent metrics are clamped to 0–100 for every model; load and network forecasts are only bounded below by 0, which is why AutoETS\'s intervals (a multiplicative trend on bursty network traffic) can explode in the pinball column.\n\n';
  for (const g of groups) {
    md += `## ${g.group}\n\n${g.windows} windows from ${g.hosts} hosts.\n\n### MASE by horizon (lower is better)\n\n| model | ${HORIZONS.map(([h]) => h).join(' | ')} |\n|---|${HORIZONS.map(() => '---:').join('|')}|\n`;
    for (const [m, byH] of Object.entries(g.scores)) {
      const best = (h: string): number => Math.min(...Object.entries(g.scores).filter(([n]) => n !== 'TFT (p50)').map(([, s]) => s[h]!.mase));
      md += `| ${m} | ${HORIZONS.map(([h]) => {
        const v = byH[h]!.mase;
        return m === 'TFT (p50)' && v < best(h) ? `**${fmt(v)}**` : fmt(v);
      }).join(' | ')} |\n`;
    }
    md += `\n### Calibration and pinball\n\n| model | ${HORIZONS.map(([h]) => `coverage ${h}`).join(' | ')} | ${HORIZONS.map(([h]) => `pinball ${h}`).join(' | ')} |\n|---|${HORIZONS.map(() => '---:').join('|')}|${HORIZONS.map(() => '---:').join('|')}|\n`;
    for (const m of ['TFT (p50)', 'augurs AutoETS', 'augurs MSTL (1d)']) {
      const s = g.scores[m]!;
      md += `| ${m === 'TFT (p50)' ? 'TFT' : m} | ${HORIZONS.map(([h]) => fmt(s[h]!.coverage, 3)).join(' | ')} | ${HORIZONS.map(([h]) => fmt(s[h]!.pinball)).join(' | ')} |\n`;
    }
    md += `\nClimb continuation (forecast/climb.ts, part of what is served and scored here) raised the TFT forecast in ${g.climbedWindows} of ${g.windows} windows.\n`;
    md += `\nQuantiles monotone: ${g.crossedWindows === 0 ? `yes, on all ${g.windows} windows (raw model outputs, every step and quantile)` : `**no**: they cross in ${g.crossedWindows} of ${g.windows} windows`}.\n`;
    md += `\nTime per forecast on this machine: TFT ${fmt(g.msPerForecast['TFT (p50)']!, 2)} ms (batched by 64, onnxruntime-node CPU, 2 threads), AutoETS ${fmt(g.msPerForecast['augurs AutoETS']!, 1)} ms, MSTL ${fmt(g.msPerForecast['augurs MSTL (1d)']!, 1)} ms (one series each, fit + predict).\n\n`;
  }
  md += `## Where it is weak\n\n${weaknesses(groups).map((w) => `- ${w}`).join('\n')}\n\n`;
  md += `## Inference speed (onnxruntime-node, CPU, 2 threads)\n\n| batch | series/s |\n|---:|---:|\n${throughput.map((t) => `| ${t.batch} | ${t.seriesPerSecond.toFixed(0)} |`).join('\n')}\n\n`;
  md += `## Charts\n\n![MASE by horizon](${charts.mase})\n\n![Example forecasts](${charts.examples})\n`;
  await writeFile(path.join(dir, 'EVAL.md'), md);
  manifest['evaluation'] = {
    generated: new Date().toISOString(),
    horizons: HORIZONS.map(([h]) => h),
    groups: groups.map((g) => ({ group: g.group, windows: g.windows, hosts: g.hosts, scores: g.scores, ms_per_forecast: g.msPerForecast, crossed_windows: g.crossedWindows, climbed_windows: g.climbedWindows })),
    throughput,
  };
  await writeFile(jsonPath, JSON.stringify(manifest, null, 2) + '\n');
}
