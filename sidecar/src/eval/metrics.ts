/**
 * The arithmetic of the forecasting evaluation, as M4, Monash and GIFT-Eval define it, as pure
 * functions (sidecar/test/eval-metrics.test.ts checks them on hand-computed cases):
 *
 * - scale of a series: the in-sample mean absolute error of seasonal naive (m = one day) on its
 *   history before the first forecast origin;
 * - MASE of a series at horizon H: the mean absolute error over steps 1..H of a forecast, divided
 *   by that scale, averaged over the series' origins; then mean and median over series;
 * - p10–p90 coverage: the share of actuals at steps 1..H inside the band;
 * - scaled pinball: the mean pinball (quantile) loss over steps 1..H and the model's quantiles,
 *   divided by the same scale.
 */

/** In-sample seasonal-naive mean absolute error with season `m` (pairs with a missing value are skipped); NaN when undefined. */
export function seasonalNaiveScale(history: ArrayLike<number>, m = 288): number {
  let sum = 0;
  let n = 0;
  for (let i = m; i < history.length; i++) {
    const a = history[i]!;
    const b = history[i - m]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      sum += Math.abs(a - b);
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/** Mean absolute error over steps 1..H. */
export function maeOver(actual: ArrayLike<number>, point: ArrayLike<number>, h: number): number {
  let s = 0;
  for (let i = 0; i < h; i++) s += Math.abs(actual[i]! - point[i]!);
  return s / h;
}

/** Share of the actuals at steps 1..H with lower ≤ actual ≤ upper. */
export function coverageOver(actual: ArrayLike<number>, lower: ArrayLike<number>, upper: ArrayLike<number>, h: number): number {
  let n = 0;
  for (let i = 0; i < h; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) n++;
  return n / h;
}

/** Pinball loss of quantile τ for actual y and forecast q: τ·(y − q) when y ≥ q, else (1 − τ)·(q − y). */
export function pinball(tau: number, y: number, q: number): number {
  const d = y - q;
  return d >= 0 ? tau * d : (tau - 1) * d;
}

/** Mean pinball loss over steps 1..H and the quantiles: `quantiles[j]` is the forecast of quantile `taus[j]`, one value per step. */
export function pinballOver(actual: ArrayLike<number>, quantiles: ReadonlyArray<ArrayLike<number>>, taus: readonly number[], h: number): number {
  let s = 0;
  for (let j = 0; j < taus.length; j++) for (let i = 0; i < h; i++) s += pinball(taus[j]!, actual[i]!, quantiles[j]![i]!);
  return s / (h * taus.length);
}

export const mean = (a: readonly number[]): number => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN);

export function median(a: readonly number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
}

/** A forecast of one window: the point (p50 for probabilistic models) and, where the model has them, quantiles. */
export interface WindowForecast {
  readonly point: ArrayLike<number>;
  /** Quantile levels of `quantiles`, increasing. */
  readonly taus?: readonly number[];
  readonly quantiles?: ReadonlyArray<ArrayLike<number>>;
}

/** Running per-series sums of one model at each horizon. */
interface Sums {
  mase: number[];
  coverage: number[];
  pinball: number[];
  windows: number;
}

/**
 * One series (host × metric) of the evaluation: its scale, and per model the per-window scores
 * at each horizon, averaged over its origins.
 */
export class SeriesScores {
  private readonly sums = new Map<string, Sums>();

  constructor(
    readonly series: string,
    readonly source: string,
    readonly scale: number,
    readonly horizons: readonly number[],
  ) {}

  /** Scores one window's forecast of `model` against `actual` (steps 1..max horizon). */
  add(model: string, actual: ArrayLike<number>, f: WindowForecast): void {
    let s = this.sums.get(model);
    if (!s) {
      const z = (): number[] => this.horizons.map(() => 0);
      this.sums.set(model, (s = { mase: z(), coverage: z(), pinball: z(), windows: 0 }));
    }
    s.windows++;
    const taus = f.taus ?? [];
    const lo = taus.indexOf(0.1);
    const hi = taus.indexOf(0.9);
    this.horizons.forEach((h, k) => {
      s.mase[k]! += maeOver(actual, f.point, h) / this.scale;
      if (f.quantiles && lo >= 0 && hi >= 0) s.coverage[k]! += coverageOver(actual, f.quantiles[lo]!, f.quantiles[hi]!, h);
      else s.coverage[k] = NaN;
      if (f.quantiles && taus.length) s.pinball[k]! += pinballOver(actual, f.quantiles, taus, h) / this.scale;
      else s.pinball[k] = NaN;
    });
  }

  models(): string[] {
    return [...this.sums.keys()];
  }

  /** Windows scored for `model`. */
  windows(model: string): number {
    return this.sums.get(model)?.windows ?? 0;
  }

  /** MASE of `model` at horizon index k: mean over the series' windows; NaN when it has none. */
  mase(model: string, k: number): number {
    const s = this.sums.get(model);
    return s && s.windows ? s.mase[k]! / s.windows : NaN;
  }

  coverage(model: string, k: number): number {
    const s = this.sums.get(model);
    return s && s.windows ? s.coverage[k]! / s.windows : NaN;
  }

  pinball(model: string, k: number): number {
    const s = this.sums.get(model);
    return s && s.windows ? s.pinball[k]! / s.windows : NaN;
  }
}

/** One model's scores over a set of series at one horizon. */
export interface HorizonSummary {
  /** Series with a score. */
  readonly series: number;
  readonly meanMase: number;
  readonly medianMase: number;
  /** Mean over series of each series' p10–p90 coverage; NaN without quantiles. */
  readonly coverage: number;
  /** Mean over series of each series' scaled pinball; NaN without quantiles. */
  readonly pinball: number;
}

export function summarise(series: readonly SeriesScores[], model: string, k: number): HorizonSummary {
  const m = series.map((s) => s.mase(model, k)).filter(Number.isFinite);
  const c = series.map((s) => s.coverage(model, k)).filter(Number.isFinite);
  const p = series.map((s) => s.pinball(model, k)).filter(Number.isFinite);
  return { series: m.length, meanMase: mean(m), medianMase: median(m), coverage: mean(c), pinball: mean(p) };
}

/** The model compared with the baselines at one horizon, over a set of series. */
export interface Comparison {
  /** The baseline with the lowest mean MASE over these series at this horizon. */
  readonly bestBaseline: string;
  /** The model's mean MASE ÷ the best baseline's mean MASE. */
  readonly meanRatio: number;
  /** The model's median MASE ÷ the best baseline's median MASE. */
  readonly medianRatio: number;
  /** Series where the model's MASE exceeds 1.5 × the lowest MASE of any baseline on that series. */
  readonly worse: number;
  readonly series: number;
}

export function compare(series: readonly SeriesScores[], model: string, baselines: readonly string[], k: number, factor = 1.5): Comparison {
  const own = summarise(series, model, k);
  let best = baselines[0]!;
  let bestMean = Infinity;
  let bestMedian = NaN;
  for (const b of baselines) {
    const s = summarise(series, b, k);
    if (s.meanMase < bestMean) {
      best = b;
      bestMean = s.meanMase;
      bestMedian = s.medianMase;
    }
  }
  let worse = 0;
  let n = 0;
  for (const s of series) {
    const m = s.mase(model, k);
    const floor = lowestBaseline(s, baselines, k).mase;
    if (!Number.isFinite(m) || !Number.isFinite(floor)) continue;
    n++;
    if (m > factor * floor) worse++;
  }
  return { bestBaseline: best, meanRatio: own.meanMase / bestMean, medianRatio: own.medianMase / bestMedian, worse, series: n };
}

/** The baseline with the lowest MASE on one series at horizon index k; NaN (and no name) when none has a score. */
export function lowestBaseline(s: SeriesScores, baselines: readonly string[], k: number): { name: string; mase: number } {
  let name = '';
  let mase = NaN;
  for (const b of baselines) {
    const x = s.mase(b, k);
    if (Number.isFinite(x) && !(x >= mase)) [name, mase] = [b, x];
  }
  return { name, mase };
}

/**
 * Every series' scores as CSV, one row per series and horizon: the model's MASE, coverage and
 * scaled pinball, its best baseline on that series (lowest MASE there) and the ratio the
 * "worse than 1.5 ×" share counts, then each baseline's MASE. Sorted by series, then horizon.
 */
export function seriesCsv(series: readonly SeriesScores[], model: string, baselines: readonly string[], horizons: readonly string[]): string {
  const cell = (x: number): string => (Number.isFinite(x) ? String(Number(x.toFixed(4))) : '');
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = [
    ['source', 'series', 'horizon', 'windows', 'mase', 'coverage', 'pinball', 'best_baseline', 'best_baseline_mase', 'ratio_to_best', ...baselines]
      .map(quote)
      .join(','),
  ];
  const sorted = [...series].sort((a, b) => a.source.localeCompare(b.source) || a.series.localeCompare(b.series));
  for (const s of sorted)
    horizons.forEach((h, k) => {
      const m = s.mase(model, k);
      const bm = baselines.map((b) => s.mase(b, k));
      const { name: best, mase: floor } = lowestBaseline(s, baselines, k);
      rows.push(
        [
          quote(s.source),
          quote(s.series),
          h,
          String(s.windows(model)),
          cell(m),
          cell(s.coverage(model, k)),
          cell(s.pinball(model, k)),
          quote(best),
          cell(floor),
          cell(m / floor),
          ...bm.map(cell),
        ].join(','),
      );
    });
  return rows.join('\n') + '\n';
}
