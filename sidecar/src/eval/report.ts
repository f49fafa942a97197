/** EVAL.md, its charts, and the summary in model.json, from an evaluation's results. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { linkFrom, writeBlock } from '../docs/blocks';
import { writeCasesChart, writeMaseChart } from './charts';
import { compare, seriesCsv, summarise } from './metrics';
import type { SeriesScores } from './metrics';
import { BASELINE_HISTORY, BASELINES, HORIZONS, MODEL, MODEL_3Q } from './protocol';
import type { EvalOptions, EvalResult, Group } from './run';
import { servingContract } from '../forecast/contract';
import type { ModelManifest } from '../forecast/manifest';

const fmt = (x: number, d = 3): string => (Number.isNaN(x) ? '—' : !Number.isFinite(x) ? '∞' : Math.abs(x) >= 1e4 ? x.toExponential(1) : x.toFixed(d));
const pct = (a: number, b: number): string => (b ? `${((100 * a) / b).toFixed(1)} %` : '—');
const ks = HORIZONS.map((_, k) => k);
const head = (first: string, cols: readonly string[]): string => `| ${first} | ${cols.join(' | ')} |\n|---|${cols.map(() => '---:').join('|')}|\n`;

function scoresOf(g: Group): SeriesScores[] {
  return g.series.map((s) => s.scores);
}

/** The headline rows of one group: the model against the best baseline and seasonal naive, per horizon. */
function headline(g: Group): string {
  const sc = scoresOf(g);
  const own = ks.map((k) => summarise(sc, MODEL, k));
  const cmp = ks.map((k) => compare(sc, MODEL, BASELINES, k));
  const sn = ks.map((k) => summarise(sc, 'seasonal naive 1d', k));
  let md = head(
    '',
    HORIZONS.map(([h]) => h),
  );
  md += `| model mean MASE | ${own.map((s) => fmt(s.meanMase)).join(' | ')} |\n`;
  md += `| model median MASE | ${own.map((s) => fmt(s.medianMase)).join(' | ')} |\n`;
  md += `| best baseline (lowest mean MASE here) | ${cmp.map((c) => c.bestBaseline).join(' | ')} |\n`;
  md += `| its mean / median MASE | ${ks.map((k) => `${fmt(summarise(sc, cmp[k]!.bestBaseline, k).meanMase)} / ${fmt(summarise(sc, cmp[k]!.bestBaseline, k).medianMase)}`).join(' | ')} |\n`;
  md += `| **ratio to best baseline, mean** | ${cmp.map((c) => `**${fmt(c.meanRatio)}**`).join(' | ')} |\n`;
  md += `| ratio to best baseline, median | ${cmp.map((c) => fmt(c.medianRatio)).join(' | ')} |\n`;
  md += `| ratio to seasonal naive 1d, mean | ${ks.map((k) => fmt(own[k]!.meanMase / sn[k]!.meanMase)).join(' | ')} |\n`;
  md += `| ratio to seasonal naive 1d, median | ${ks.map((k) => fmt(own[k]!.medianMase / sn[k]!.medianMase)).join(' | ')} |\n`;
  md += `| p10–p90 coverage (nominal 0.80) | ${own.map((s) => fmt(s.coverage)).join(' | ')} |\n`;
  md += `| scaled pinball, all ${'model'} quantiles | ${own.map((s) => fmt(s.pinball)).join(' | ')} |\n`;
  md += `| series worse than 1.5 × their best baseline | ${cmp.map((c) => `${c.worse} / ${c.series} (${pct(c.worse, c.series)})`).join(' | ')} |\n`;
  return md;
}

function maseTable(g: Group): string {
  const sc = scoresOf(g);
  let md = head(
    'model: mean / median MASE',
    HORIZONS.map(([h]) => h),
  );
  for (const m of [MODEL, ...BASELINES]) {
    const rows = ks.map((k) => summarise(sc, m, k));
    const n = rows[0]!.series;
    const label = n < sc.length ? `${m} (${n} of ${sc.length} series)` : m;
    md += `| ${m === MODEL ? `**${label}**` : label} | ${rows.map((s) => `${fmt(s.meanMase)} / ${fmt(s.medianMase)}`).join(' | ')} |\n`;
  }
  return md;
}

function probabilisticTable(g: Group): string {
  const sc = scoresOf(g);
  let md = head('model', [...HORIZONS.map(([h]) => `coverage ${h}`), ...HORIZONS.map(([h]) => `pinball ${h}`)]);
  for (const m of [MODEL, MODEL_3Q, 'AutoETS (AZN)', 'MSTL (1d)']) {
    const rows = ks.map((k) => summarise(sc, m, k));
    md += `| ${m === MODEL ? 'Foresight TFT (all 7 quantiles)' : m} | ${rows.map((s) => fmt(s.coverage)).join(' | ')} | ${rows.map((s) => fmt(s.pinball)).join(' | ')} |\n`;
  }
  return md;
}

/** Every place the model loses, in words. */
/** What the model reads, in words (model.json's contract version). */
function readsText(m: ModelManifest): string {
  const c = servingContract(m);
  if (!c.context) return `It sees ${c.historyLength} steps of history (contract version ${c.version}: one series per row).`;
  return `It reads ${c.historyLength} 5-minute steps and ${c.context.length} samples ${c.context.stepSeconds / 3600} h apart of every metric of the server, all ending at the origin (contract version ${c.version}: one forward pass per server; the hourly samples are the 5-minute values at those instants, as the sidecar's ${c.context.stepSeconds / 3600} h query_range reads them).`;
}

export function losses(groups: readonly Group[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const sc = scoresOf(g);
    const lost: string[] = [];
    for (const k of ks) {
      const own = summarise(sc, MODEL, k).meanMase;
      const better = BASELINES.map((b) => [b, summarise(sc, b, k).meanMase] as const).filter(([, m]) => m < own);
      if (better.length) lost.push(`${HORIZONS[k]![0]} (${better.map(([b, m]) => `${b} ${fmt(m)}`).join(', ')} vs ${fmt(own)})`);
    }
    if (lost.length) out.push(`**${g.name}**: a baseline has a lower mean MASE at ${lost.join('; ')}.`);
    const cov = ks.map((k) => summarise(sc, MODEL, k).coverage);
    const off = ks.filter((k) => cov[k]! < 0.77 || cov[k]! > 0.83);
    if (off.length)
      out.push(
        `**${g.name}**: p10–p90 coverage outside 0.77–0.83 at ${off.map((k) => `${HORIZONS[k]![0]} (${fmt(cov[k]!)}, band too ${cov[k]! > 0.83 ? 'wide' : 'narrow'})`).join(', ')}.`,
      );
    const worse = ks.map((k) => compare(sc, MODEL, BASELINES, k));
    const maxWorse = Math.max(...worse.map((c) => c.worse / Math.max(1, c.series)));
    if (maxWorse >= 0.03)
      out.push(
        `**${g.name}**: ${worse.map((c, k) => `${HORIZONS[k]![0]} ${pct(c.worse, c.series)}`).join(', ')} of series are worse than 1.5 × their best baseline.`,
      );
  }
  return out;
}

export async function writeReport(o: EvalOptions, r: EvalResult): Promise<void> {
  const dir = o.outDir;
  // --out may name a directory that does not exist yet
  await mkdir(dir, { recursive: true });
  const m = r.manifest;
  const panels = r.groups.map((g) => ({
    title: g.name.replace(/ \(.*\)$/, ''),
    horizons: HORIZONS.map(([h]) => h),
    lines: [MODEL, ...BASELINES].map((model) => ({ model, values: ks.map((k) => summarise(scoresOf(g), model, k).meanMase) })),
  }));
  const maseChart = await writeMaseChart(dir, 'eval-mase.png', panels);
  const worstChart = r.worst.length ? await writeCasesChart(dir, 'eval-worst.png', r.worst) : undefined;
  const perSeries = r.groups.filter((g) => !g.name.startsWith('pooled')).flatMap(scoresOf);
  await writeFile(
    path.join(dir, 'eval-series.csv'),
    seriesCsv(
      perSeries,
      MODEL,
      BASELINES,
      HORIZONS.map(([h]) => h),
    ),
  );
  const shapeCases = r.shapes.flatMap((s) => s.examples);
  const shapeChart = shapeCases.length ? await writeCasesChart(dir, 'eval-shapes.png', shapeCases) : undefined;
  const hostsOf = (g: Group): number => new Set(g.series.map((s) => s.host.name)).size;
  const strideText = stepsText(r.stride);
  const cpus = os.cpus();

  let md = `# ${m.name} — evaluation\n\n`;
  md += `Generated by \`npm run eval\` on ${new Date().toISOString().slice(0, 10)} (model version ${m.version}, model.onnx sha256 ${m.checksum['model.onnx'].slice(0, 12)}…), in ${(r.seconds / 60).toFixed(1)} min on ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}. `;
  md += `Every number here comes from that command; \`npm run eval -- --help\` lists its flags.\n\n`;
  md += '## Protocol\n\n';
  md += `The standard protocol of forecasting benchmarks (M4, Monash, GIFT-Eval), on the hosts the model's by-host split held out (model.json \`training.data.split.hosts.test\`: never seen in training or validation).\n\n`;
  md += `- **Series**: each metric of each held-out host (${r.sources.join(', ')}; and the simulator's held-out servers). ${r.windows} forecast windows from ${r.groups.reduce((a, g) => (g.name.startsWith('pooled') ? a : a + g.series.length), 0)} series.\n`;
  md += `- **Rolling origins**: every ${r.stride} steps (${strideText}) from the first step of the last ${Math.round(100 * (1 - r.timeSplit))} % of each host's time (the period training's time split reserves for evaluation) while 8 h of truth remain; a deterministic subsample of the every-5-minute origins, chosen so that the whole evaluation runs on 2 cores in well under an hour. A window is used when its next 8 h are fully observed and at least 80 % of the model's encoder is.\n`;
  md +=
    "- **MASE** of a series at horizon H ∈ {30m, 1h, 2h, 4h, 8h} (6, 12, 24, 48, 96 steps): the mean absolute error over steps 1..H of a window, divided by the series' **scale**, the in-sample mean absolute error of seasonal naive with m = 1 day (288 steps) on the series' whole history before its first origin; averaged over the series' origins. Then **mean and median over series**. Below 1: better in the future than repeating yesterday was in the past.\n";
  md +=
    "- **Best baseline**: per group and horizon, the baseline with the lowest mean MASE over that group's series. \"Ratio to best baseline, mean\" is the model's mean MASE ÷ that baseline's mean MASE; \"median\" is the model's median ÷ the same baseline's median. **Worse than 1.5 ×**: a series whose model MASE exceeds 1.5 × the lowest MASE any baseline reaches on that series at that horizon.\n";
  md +=
    "- **Coverage**: the share of actuals at steps 1..H inside the p10–p90 band (nominal 0.80), per series, then the mean over series. **Scaled pinball**: the pinball loss ρτ(y − q) averaged over steps 1..H and the model's quantiles (the TFT's 7; the augurs models' p10/p50/p90 from their 80 % interval), divided by the series' scale, then averaged like MASE. The row \"Foresight TFT (p10/p50/p90)\" scores the TFT on the same three quantiles as augurs, for a like-for-like comparison.\n";
  md += `- **The model** is called through the sidecar's forecast stage (\`forecastWindow\`, as \`foresight serve\` calls it; onnxruntime-node, CPU): the same inputs, the quantile clean-up (monotone, bounded to the metric's range) and the climb continuation of \`forecast/climb.ts\` that are served. Its point forecast is the p50. ${readsText(m)}\n`;
  md += `- **Baselines**, on the same windows, fitted on the history up to the origin (gaps carried forward): last value; seasonal naive 1 day and 1 week (the value one day / one week before each step; where the history holds a whole week); \`predict_linear\` over the last 1 h and 6 h (Prometheus' least-squares line through the window, extrapolated from the origin); augurs AutoETS with spec \`AZN\` (additive errors, automatic trend, no season) fitted on the last ${BASELINE_HISTORY['AutoETS (AZN)'] / 288} days; augurs MSTL with a daily season and an ETS trend on the last ${BASELINE_HISTORY['MSTL (1d)'] / 288} days. Forecasts of percent metrics are clamped to 0–100, others bounded below by 0, for every model.\n`;
  md += `- **Not scored** (${r.skipped.length} series): ${r.skipped.length ? r.skipped.map((s) => `${s.name} (${s.reason})`).join('; ') : 'none'}.`;
  const failed = Object.entries(r.baselineFailures);
  if (failed.length)
    md += ` The augurs fit failed on ${failed.map(([b, n]) => `${n} windows for ${b}`).join(', ')}: those windows are not scored for that baseline.`;
  md += r.missingForecasts ? ` The forecast stage returned no forecast for ${r.missingForecasts} windows (not scored for any model).\n` : '\n';
  md += `- Quantiles as the model outputs them cross in ${r.crossedWindows} of the forecast calls' series${r.crossedWindows ? ' (the forecast stage sorts them before serving)' : ''}; climb continuation changed the served forecast in ${r.climbedWindows} of ${r.windows} windows.\n\n`;
  md +=
    'Earlier versions of this file scored the single step at each lead time, scaled per window by the previous week and pooled over windows; that table is gone. The numbers below are not comparable with it.\n\n';

  md += '## Headline\n\n';
  for (const g of r.groups.filter((x) => x.name.startsWith('pooled') || x.name === 'simulator')) {
    md += `### ${g.name}\n\n${g.series.length} series, ${hostsOf(g)} hosts, ${windowsOf(g)} windows.\n\n${headline(g)}\n`;
  }
  md += '![mean MASE by horizon](' + maseChart + ')\n\n';

  md += '## Where the model loses\n\n';
  const l = losses(r.groups);
  md += l.length
    ? l.map((x) => `- ${x}`).join('\n') + '\n'
    : '- No baseline has a lower mean MASE in any group at any horizon, coverage is within 0.77–0.83 everywhere, and fewer than 3 % of series are worse than 1.5 × their best baseline.\n';
  if (r.worstNames.length) {
    const byBest = new Map<string, number>();
    for (const w of r.worstNames) byBest.set(w.best, (byBest.get(w.best) ?? 0) + 1);
    md += `\nThe worst series (highest mean over horizons of the model's MASE ÷ that series' best baseline), with the baseline that beats it most often there:\n\n| series | source | ratio to its best baseline | best baseline |\n|---|---|---:|---|\n`;
    for (const w of r.worstNames) md += `| ${w.series} | ${w.source} | ${fmt(w.ratio, 2)} | ${w.best} |\n`;
    md += `\nOn ${[...byBest.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([b, n]) => `${n} of these ${r.worstNames.length} the best baseline is ${b}`)
      .join(', ')}. Each is plotted below at the window where the model loses most to the best baseline.`;
    const seasonal = r.worstNames.filter((w) => w.best.startsWith('seasonal naive')).length;
    const hours = (m.encoder_length * m.step_seconds) / 3600;
    if (2 * seasonal >= r.worstNames.length && servingContract(m).context === undefined) {
      md += ` On ${seasonal} of them, repeating the last day or week beats the model: shapes that recur daily or weekly (on/off blocks, periodic drops), which a model reading ${hours} h of history sees at most once (a weekly one, not at all).`;
    }
    md += '\n\n';
    if (worstChart) md += `![worst series](${worstChart})\n\n`;
    md += `Every series' scores at every horizon, with its best baseline and the ratio the 1.5 × share counts: [\`eval-series.csv\`](eval-series.csv).\n\n`;
  }

  if (r.shapes.length) {
    md += '## Level shifts and ramps (synthetic held-out cases)\n\n';
    md +=
      'Built deterministically by `sidecar/src/eval/shapes.ts` (fixed seed; not in any training data): a target series with a small daily cycle and noise, and a flat second metric, on every profile.\n\n';
    md +=
      '- **Level shift**: cpu or memory steps by 20–50 points and has held the new level for 30–60 min at the origin. Passes when the p50 stays within 25 % of the new level at every one of the next 96 steps (8 h).\n';
    md +=
      "- **Ramp**: cpu, memory or disk has climbed in a straight line for 1–3 h towards the profile's critical threshold, which the line crosses 30 min to 6 h after the origin. Passes when the p50 first reaches the threshold no later than 30 min after the line does.\n\n";
    md +=
      '| case | cases | pass rate (as served) | pass rate (model alone, no climb continuation) | detail (as served / model alone) |\n|---|---:|---:|---:|---|\n';
    for (const s of r.shapes) {
      const detail =
        s.kind === 'ramp'
          ? `median lateness of the p50 crossing ${fmt(s.detail, 0)} / ${fmt(s.detailRaw, 0)} min (∞: never crosses in 8 h)`
          : `mean share of the 96 steps within 25 %: ${fmt(s.detail, 2)} / ${fmt(s.detailRaw, 2)}`;
      md += `| ${s.kind} | ${s.cases} | **${pct(s.passed, s.cases)}** | ${pct(s.passedRaw, s.cases)} | ${detail} |\n`;
    }
    if (shapeChart)
      md += `\nFailed cases as served, the first two of each kind (the time axis in hours from the origin):\n\n![level shift and ramp cases](${shapeChart})\n`;
    md += '\n';
  }

  md += '## Every group\n\n';
  for (const g of r.groups) {
    md += `### ${g.name}\n\n${g.series.length} series, ${hostsOf(g)} hosts, ${windowsOf(g)} windows.\n\n${headline(g)}\n${maseTable(g)}\n${probabilisticTable(g)}\n`;
  }
  md += `## Time\n\nThe whole run: ${(r.seconds / 60).toFixed(1)} min. Per series and origin: ${Object.entries(r.msPerSeries)
    .map(([k, v]) => `${k} ${fmt(v, 1)} ms`)
    .join(
      ', ',
    )} (the TFT through the forecast stage in batches, the augurs models one series at a time, fit + 8 h forecast). Inference throughput is measured by \`npm run bench\`.\n`;
  await writeFile(path.join(dir, 'EVAL.md'), md);

  if (o.updateDocs) await writeBlock(o.repoRoot, 'eval', accuracySummary(r));
  if (o.updateManifest) {
    const jsonPath = path.join(o.modelDir, 'model.json');
    const manifest = JSON.parse(await readFile(jsonPath, 'utf8')) as Record<string, unknown>;
    manifest['evaluation'] = {
      generated: new Date().toISOString(),
      protocol: `rolling origins every ${r.stride} steps over the last 25 % of held-out hosts; MASE over steps 1..H scaled by the in-sample seasonal-naive (1 day) MAE before the first origin; mean over origins per series, then over series (see EVAL.md)`,
      horizons: HORIZONS.map(([h]) => h),
      groups: r.groups.map((g) => {
        const sc = scoresOf(g);
        return {
          group: g.name,
          series: g.series.length,
          windows: windowsOf(g),
          model: ks.map((k) => summarise(sc, MODEL, k)),
          comparison: ks.map((k) => compare(sc, MODEL, BASELINES, k)),
          seasonal_naive_1d: ks.map((k) => summarise(sc, 'seasonal naive 1d', k)),
        };
      }),
      shapes: r.shapes.map((s) => ({ kind: s.kind, cases: s.cases, passed: s.passed, passed_without_climb_continuation: s.passedRaw })),
    };
    await writeFile(jsonPath, JSON.stringify(manifest, null, 2) + '\n');
  }
}

/** The accuracy paragraph of docs/model.md (between its eval markers): the headline of each pooled group and the shape rates. */
function accuracySummary(r: EvalResult): string {
  let md = `**Accuracy** (\`npm run eval\` on ${new Date().toISOString().slice(0, 10)}; protocol, every source and the worst series in [\`models/foresight-tft/EVAL.md\`](${linkFrom('eval', 'models/foresight-tft/EVAL.md')})). `;
  md += `Rolling origins every ${stepsText(r.stride)} over the last ${Math.round(100 * (1 - r.timeSplit))} % of the time of the hosts the model's by-host split held out; MASE over steps 1..H scaled by each series' in-sample seasonal-naive (1 day) error before its first origin, averaged per series, then over series. The best baseline is, per horizon, the one with the lowest mean MASE among last value, seasonal naive 1 day / 1 week, \`predict_linear\` 1 h / 6 h, augurs AutoETS (\`AZN\`) and MSTL.\n\n`;
  for (const g of r.groups.filter((x) => x.name.startsWith('pooled') || x.name === 'simulator')) {
    const sc = scoresOf(g);
    const own = ks.map((k) => summarise(sc, MODEL, k));
    const cmp = ks.map((k) => compare(sc, MODEL, BASELINES, k));
    const sn = ks.map((k) => summarise(sc, 'seasonal naive 1d', k));
    md += `${g.name}: ${g.series.length} series, ${windowsOf(g)} windows.\n\n`;
    md += head(
      '',
      HORIZONS.map(([h]) => h),
    );
    md += `| model mean / median MASE | ${own.map((s) => `${fmt(s.meanMase)} / ${fmt(s.medianMase)}`).join(' | ')} |\n`;
    md += `| best baseline | ${cmp.map((c) => c.bestBaseline).join(' | ')} |\n`;
    md += `| ratio to best baseline, mean / median | ${cmp.map((c) => `${fmt(c.meanRatio)} / ${fmt(c.medianRatio)}`).join(' | ')} |\n`;
    md += `| ratio to seasonal naive 1d, mean | ${ks.map((k) => fmt(own[k]!.meanMase / sn[k]!.meanMase)).join(' | ')} |\n`;
    md += `| p10–p90 coverage | ${own.map((s) => fmt(s.coverage)).join(' | ')} |\n`;
    md += `| series worse than 1.5 × their best baseline | ${cmp.map((c) => pct(c.worse, c.series)).join(' | ')} |\n\n`;
  }
  if (r.shapes.length) {
    md += `Synthetic level shifts and ramps (EVAL.md), as served / by the model alone (without the climb continuation of \`forecast/climb.ts\`): ${r.shapes.map((s) => `${s.kind} ${pct(s.passed, s.cases)} / ${pct(s.passedRaw, s.cases)} of ${s.cases} pass`).join('; ')} (level shift: p50 within 25 % of the new level for 8 h; ramp: p50 crosses the threshold no later than 30 min after the real crossing).\n`;
  }
  return md;
}

const stepsText = (steps: number): string => (steps % 12 === 0 ? `${steps / 12} h` : `${steps * 5} min`);

function windowsOf(g: Group): number {
  return g.series.reduce((a, s) => a + s.origins.length, 0);
}
