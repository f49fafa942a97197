/**
 * The fleet severity heatmap as data: rows = instances, columns = time. Past columns come from
 * `foresight_risk_score` over the past window; future columns from the latest
 * `foresight_predicted_risk_score` per `horizon`, each spanning from the previous horizon to its
 * own (the 30m column covers now → +30m, the 8h column +6h → +8h). Every column carries the time
 * it covers, and `xOf` places times on one axis, so a column is as wide as its time: five minutes
 * of past are a sliver, not half the panel. Pure: same series in, same grid out; the components
 * only draw this.
 */
import { LEVELS, levelOf } from '../levels';
import { type SeriesInput, durationSeconds, lastGoodAt, lastValue, timeAndAge } from '../series';
import { SERIES } from '@foresight/contract';

export { timeAndAge };

export type SortOrder = 'worstCurrent' | 'worstPredicted' | 'name';

export interface HeatmapColumn {
  /** Unix ms where the column starts (exclusive) … ends (inclusive). */
  readonly start: number;
  readonly end: number;
  readonly predicted: boolean;
  /** The `horizon` label of a predicted column. */
  readonly horizon?: string;
}

export interface HeatmapCell {
  readonly score: number;
  readonly level: number;
}

/**
 * Whether a row's data is current: fresh; stale (its data is missing or bad, so the sidecar
 * republishes its last good risk and forecasts, `foresight_instance_stale` 1); unknown (missing
 * longer than the sidecar keeps stale results, `foresight_instance_unknown` 1: no score, no
 * forecast). Without those series (older sidecars) every row is fresh.
 */
export type DataState = 'fresh' | 'stale' | 'unknown';

export interface HeatmapRow {
  readonly instance: string;
  readonly profile: string;
  readonly state: DataState;
  /**
   * Unix ms of the last good data of a stale or unknown row: the newest sample at which
   * `foresight_instance_stale` was 0 before its current run of 1s; null when not in the data
   * (stale for the whole range) or fresh.
   */
  readonly dataAt: number | null;
  /**
   * Index of the first column drawn as stale (carried over, not measured): the first past column
   * ending after `dataAt` (the first past column when dataAt is null); columns.length when fresh.
   * Predicted columns of a stale row are always at or after it.
   */
  readonly staleFrom: number;
  /** One per column; null where the series has no value there. */
  readonly cells: ReadonlyArray<HeatmapCell | null>;
  /** Level of the newest past cell (−1 when none). */
  readonly worstCurrent: number;
  /** Score of the newest past cell (−1 when none). */
  readonly currentScore: number;
  /** Highest level among the predicted cells (−1 when none). */
  readonly worstPredicted: number;
  /** Highest score among the predicted cells (−1 when none). */
  readonly worstPredictedScore: number;
  /** Current drivers, largest first: `foresight_risk_driver` at its latest sample. */
  readonly drivers: ReadonlyArray<{ readonly driver: string; readonly points: number }>;
}

export interface HeatmapModel {
  readonly columns: readonly HeatmapColumn[];
  /** Index of the first predicted column (= columns.length when there are none). */
  readonly nowIndex: number;
  /** Unix ms of "now": the newest risk-score sample. */
  readonly now: number;
  /** Unix ms where the past window starts. */
  readonly pastStart: number;
  /** Unix ms of the longest horizon (= now when there are no predicted columns). */
  readonly futureEnd: number;
  /** Share of the grid's width the past gets (0–1); the future gets the rest. */
  readonly pastShare: number;
  /** True when past and future are drawn on the same time scale (false: the past is compressed). */
  readonly sameScale: boolean;
  readonly rows: readonly HeatmapRow[];
}

export interface HeatmapOptions {
  readonly sort: SortOrder;
  /** Horizons to show (label values); all when empty. */
  readonly horizons?: readonly string[];
  /** At most this many past columns: samples are merged (the worst score wins) into equal time buckets. */
  readonly maxPastColumns?: number;
  /**
   * Length of the past window in ms (the dashboard's time range; the preview's 6 h). Without it,
   * the past is the time the samples cover. The samples are drawn where they fall in it, so a
   * short history stays short.
   */
  readonly pastWindow?: number;
}

export const RISK_SCORE = SERIES.riskScore.name;
export const PREDICTED_RISK = SERIES.predictedRiskScore.name;
export const RISK_DRIVER = SERIES.riskDriver.name;
export const INSTANCE_STALE = SERIES.instanceStale.name;
export const INSTANCE_UNKNOWN = SERIES.instanceUnknown.name;

/** The past never takes more than this share of the width, so the predicted columns stay readable. */
export const MAX_PAST_SHARE = 0.6;

export function prepareHeatmap(
  series: readonly SeriesInput[],
  o: HeatmapOptions
): HeatmapModel | { readonly message: string } {
  const scores = series.filter((s) => s.name === RISK_SCORE && s.labels['instance'] !== undefined);
  const allTimes = [
    ...new Set(scores.flatMap((s) => s.times.filter((_, i) => s.values[i] !== null && s.values[i] !== undefined))),
  ].sort((a, b) => a - b);
  if (allTimes.length === 0) {
    return {
      message: `No ${RISK_SCORE} series with an instance label. Query ${RISK_SCORE} (range) and ${PREDICTED_RISK} (instant or range) from the Foresight sidecar.`,
    };
  }
  const now = allTimes[allTimes.length - 1]!;
  const step = typicalStep(allTimes);

  // past columns: equal time buckets ending at now, at least one sample step wide
  const covered = now - allTimes[0]! + step;
  const window = o.pastWindow !== undefined && o.pastWindow > 0 ? o.pastWindow : covered;
  const maxCols = Math.max(1, o.maxPastColumns ?? 120);
  const bucket = Math.max(window / maxCols, step);
  const pastCount = Math.max(1, Math.round(window / bucket));
  const pastStart = now - pastCount * bucket;
  const pastColumns: HeatmapColumn[] = Array.from({ length: pastCount }, (_, b) => ({
    start: pastStart + b * bucket,
    end: pastStart + (b + 1) * bucket,
    predicted: false,
  }));
  // a sample at t belongs to the bucket (start, end] that holds it; older samples are outside the window
  const bucketOf = (t: number): number =>
    t <= pastStart ? -1 : Math.min(pastCount - 1, Math.ceil((t - pastStart) / bucket - 1e-9) - 1);

  // future columns: one per horizon, ordered by length, each from the previous horizon to its own
  const wanted = o.horizons && o.horizons.length > 0 ? new Set(o.horizons) : undefined;
  const predicted = series.filter(
    (s) => s.name === PREDICTED_RISK && s.labels['instance'] !== undefined && s.labels['horizon'] !== undefined
  );
  const horizons = [...new Set(predicted.map((s) => s.labels['horizon']!))]
    .filter((h) => durationSeconds(h) !== undefined && durationSeconds(h)! > 0 && (!wanted || wanted.has(h)))
    .sort((a, b) => durationSeconds(a)! - durationSeconds(b)!);
  const futureColumns: HeatmapColumn[] = horizons.map((h, i) => ({
    start: now + (i === 0 ? 0 : durationSeconds(horizons[i - 1]!)! * 1000),
    end: now + durationSeconds(h)! * 1000,
    predicted: true,
    horizon: h,
  }));
  const columns = [...pastColumns, ...futureColumns];
  const futureEnd = futureColumns.length > 0 ? futureColumns[futureColumns.length - 1]!.end : now;
  const future = futureEnd - now;
  const natural = future > 0 ? window / (window + future) : 1;
  const pastShare = Math.min(natural, future > 0 ? MAX_PAST_SHARE : 1);

  type Building = {
    profile: string;
    cells: Array<HeatmapCell | null>;
    drivers: Array<{ driver: string; points: number }>;
  };
  const byInstance = new Map<string, Building>();
  const rowOf = (instance: string, profile: string | undefined): Building => {
    let r = byInstance.get(instance);
    if (!r) {
      byInstance.set(instance, (r = { profile: profile ?? '', cells: columns.map(() => null), drivers: [] }));
    }
    if (!r.profile && profile) {
      r.profile = profile;
    }
    return r;
  };
  for (const s of scores) {
    const row = rowOf(s.labels['instance']!, s.labels['profile']);
    s.times.forEach((t, i) => {
      const v = s.values[i];
      const b = bucketOf(t);
      if (v === null || v === undefined || b < 0) {
        return;
      }
      const prev = row.cells[b];
      if (!prev || v > prev.score) {
        row.cells[b] = { score: v, level: levelOf(v) };
      }
    });
  }
  // stale / unknown: the newest value of each instance's series; an unknown server gets a row even
  // when none of its scores are in the window (it publishes none)
  const states = new Map<string, { state: DataState; dataAt: number | null }>();
  for (const s of series) {
    const instance = s.labels['instance'];
    if (
      (s.name !== INSTANCE_STALE && s.name !== INSTANCE_UNKNOWN) ||
      instance === undefined ||
      lastValue(s)?.value !== 1
    ) {
      continue;
    }
    const prev = states.get(instance);
    if (s.name === INSTANCE_UNKNOWN) {
      states.set(instance, { state: 'unknown', dataAt: prev?.dataAt ?? null });
      rowOf(instance, s.labels['profile']);
    } else {
      states.set(instance, { state: prev?.state ?? 'stale', dataAt: lastGoodAt(s) });
    }
  }
  for (const s of predicted) {
    const col = horizons.indexOf(s.labels['horizon']!);
    const last = lastValue(s);
    if (col < 0 || !last || !byInstance.has(s.labels['instance']!)) {
      continue;
    }
    rowOf(s.labels['instance']!, s.labels['profile']).cells[pastCount + col] = {
      score: last.value,
      level: levelOf(last.value),
    };
  }
  for (const s of series) {
    if (s.name !== RISK_DRIVER || s.labels['driver'] === undefined) {
      continue;
    }
    const r = byInstance.get(s.labels['instance'] ?? '');
    const last = lastValue(s);
    if (r && last && last.value > 0) {
      r.drivers.push({ driver: s.labels['driver'], points: last.value });
    }
  }

  const rows: HeatmapRow[] = [...byInstance.entries()].map(([instance, r]) => {
    const st = states.get(instance) ?? { state: 'fresh' as const, dataAt: null };
    if (st.state === 'unknown') {
      // nothing is known now or ahead: no predicted cells, no current level (old scores stay as history)
      r.cells.fill(null, pastCount);
    }
    let current: HeatmapCell | null = null;
    for (let i = pastCount - 1; i >= 0 && !current && st.state !== 'unknown'; i--) {
      current = r.cells[i] ?? null;
    }
    const ahead = r.cells.slice(pastCount).filter((c): c is HeatmapCell => c !== null);
    const after = st.dataAt === null ? 0 : pastColumns.findIndex((c) => c.end > st.dataAt!);
    const staleFrom = st.state === 'fresh' ? columns.length : after < 0 ? pastCount : after;
    return {
      instance,
      profile: r.profile,
      state: st.state,
      dataAt: st.state === 'fresh' ? null : st.dataAt,
      staleFrom,
      cells: r.cells,
      worstCurrent: current ? current.level : -1,
      currentScore: current ? current.score : -1,
      worstPredicted: ahead.length ? Math.max(...ahead.map((c) => c.level)) : -1,
      worstPredictedScore: ahead.length ? Math.max(...ahead.map((c) => c.score)) : -1,
      drivers: r.drivers.sort((a, b) => b.points - a.points || a.driver.localeCompare(b.driver)),
    };
  });
  rows.sort(comparator(o.sort));
  return {
    columns,
    nowIndex: pastCount,
    now,
    pastStart,
    futureEnd,
    pastShare,
    sameScale: Math.abs(pastShare - natural) < 1e-9,
    rows,
  };
}

/** The usual spacing of the samples (their smallest gap; one minute when there is a single sample). */
function typicalStep(sorted: readonly number[]): number {
  let step = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d > 0 && d < step) {
      step = d;
    }
  }
  return Number.isFinite(step) ? step : 60_000;
}

/**
 * Where a time lies across the grid, 0 (past window start) … 1 (longest horizon): the past is
 * linear over its share of the width, the future linear over the rest.
 */
export function xOf(m: Pick<HeatmapModel, 'pastStart' | 'now' | 'futureEnd' | 'pastShare'>, t: number): number {
  if (t <= m.now) {
    const span = m.now - m.pastStart;
    return span > 0 ? Math.max(0, ((t - m.pastStart) / span) * m.pastShare) : m.pastShare;
  }
  const span = m.futureEnd - m.now;
  return span > 0 ? Math.min(1, m.pastShare + ((t - m.now) / span) * (1 - m.pastShare)) : 1;
}

const TICK_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/**
 * Clock-time ticks for the past window: round times (every 1 min … 1 day, whichever leaves at
 * most `maxTicks`) in [pastStart, now). The view formats them in the dashboard's
 * time zone.
 */
export function pastTicks(pastStart: number, now: number, maxTicks: number): number[] {
  const span = now - pastStart;
  if (span <= 0 || maxTicks < 1) {
    return [];
  }
  const every = TICK_STEPS.find((s) => span / s <= maxTicks) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const ticks: number[] = [];
  for (let t = Math.ceil(pastStart / every) * every; t < now; t += every) {
    ticks.push(t);
  }
  return ticks;
}

/**
 * Row order. Worst now: current level, then current score, then the predicted ones; worst
 * predicted: the highest predicted level, then its score, then the current ones. Name last.
 * A stale row sorts at its last good level (what it is shown at, marked stale). An unknown row
 * has no level to sort by and must not sink to the healthy end unseen: in both "worst" orders
 * the unknown rows come first (by name), labelled "unknown".
 */
function comparator(sort: SortOrder): (a: HeatmapRow, b: HeatmapRow) => number {
  const byName = (a: HeatmapRow, b: HeatmapRow): number =>
    a.instance.localeCompare(b.instance, undefined, { numeric: true });
  if (sort === 'name') {
    return byName;
  }
  const unknownFirst = (a: HeatmapRow, b: HeatmapRow): number =>
    Number(b.state === 'unknown') - Number(a.state === 'unknown');
  if (sort === 'worstPredicted') {
    return (a, b) =>
      unknownFirst(a, b) ||
      b.worstPredicted - a.worstPredicted ||
      b.worstPredictedScore - a.worstPredictedScore ||
      b.worstCurrent - a.worstCurrent ||
      b.currentScore - a.currentScore ||
      byName(a, b);
  }
  return (a, b) =>
    unknownFirst(a, b) ||
    b.worstCurrent - a.worstCurrent ||
    b.currentScore - a.currentScore ||
    b.worstPredicted - a.worstPredicted ||
    b.worstPredictedScore - a.worstPredictedScore ||
    byName(a, b);
}

/**
 * The server the cones show when none is selected: the worst predicted level, ties broken by the
 * predicted score, then the current level and score, then name. Undefined for an empty fleet.
 */
export function worstInstance(rows: readonly HeatmapRow[]): string | undefined {
  // an unknown server has no forecast to show: the worst known one, unless none is known
  const known = rows.filter((r) => r.state !== 'unknown');
  return [...(known.length > 0 ? known : rows)].sort(comparator('worstPredicted'))[0]?.instance;
}

/**
 * What a stale or unknown row's mark means, in words (the badge's tooltip, the cell tooltips):
 * "stale: last data at 13:40 (20 min ago); showing its last good risk and forecasts". Undefined when fresh.
 */
export function stateText(
  row: Pick<HeatmapRow, 'state' | 'dataAt'>,
  now: number,
  formatTime: (ms: number) => string
): string | undefined {
  const since =
    row.dataAt !== null ? `last data at ${timeAndAge(row.dataAt, now, formatTime)}` : 'no good data in the time range';
  if (row.state === 'stale') {
    return `stale: ${since}; showing its last good risk and forecasts`;
  }
  if (row.state === 'unknown') {
    return `unknown: ${since}; no current risk or forecast`;
  }
  return undefined;
}

function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The tooltip's text for one cell, as plain text lines (rendered as text, never HTML). */
export function cellTooltip(
  model: HeatmapModel,
  row: HeatmapRow,
  column: number,
  formatTime: (ms: number) => string = formatUtc
): string[] {
  const col = model.columns[column];
  const cell = row.cells[column];
  if (!col) {
    return [];
  }
  const lines = [`${row.instance}${row.profile ? ` (${row.profile})` : ''}`];
  lines.push(col.predicted ? `predicted for now + ${col.horizon} (${formatTime(col.end)})` : formatTime(col.end));
  const marked = column >= row.staleFrom ? stateText(row, model.now, formatTime) : undefined;
  if (!cell) {
    lines.push(row.state === 'unknown' && column >= row.staleFrom ? 'no data (unknown)' : 'no data');
    if (marked) {
      lines.push(marked);
    }
    return lines;
  }
  lines.push(
    `score ${cell.score.toFixed(0)} · ${levelName(cell.level)}${marked && row.state === 'stale' ? ' (last good, stale)' : ''}`
  );
  if (marked) {
    lines.push(marked);
  }
  if (!col.predicted && column === model.nowIndex - 1 && row.drivers.length > 0) {
    lines.push(
      `drivers: ${row.drivers
        .slice(0, 3)
        .map((d) => `${d.driver} ${d.points.toFixed(0)}`)
        .join(', ')}`
    );
  }
  return lines;
}

function levelName(level: number): string {
  return LEVELS[level]?.name ?? String(level);
}
