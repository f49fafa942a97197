/**
 * The fleet severity heatmap as data: rows = instances, columns = time. Past columns come from
 * `foresight_risk_score` over the dashboard range; future columns from the latest
 * `foresight_predicted_risk_score` per `horizon`, placed at now + horizon. Pure: same series in,
 * same grid out (STYLE.md rule 3; the components only draw this).
 */
import { LEVELS, levelOf } from '../levels';
import { type SeriesInput, durationSeconds, lastValue } from '../series';

export type SortOrder = 'worstCurrent' | 'worstPredicted' | 'name';

export interface HeatmapColumn {
  /** Unix ms: the sample time (past) or now + horizon (future). */
  readonly time: number;
  readonly predicted: boolean;
  /** The `horizon` label of a predicted column. */
  readonly horizon?: string;
}

export interface HeatmapCell {
  readonly score: number;
  readonly level: number;
}

export interface HeatmapRow {
  readonly instance: string;
  readonly profile: string;
  /** One per column; null where the series has no value there. */
  readonly cells: ReadonlyArray<HeatmapCell | null>;
  /** Level of the last past cell (−1 when none). */
  readonly worstCurrent: number;
  /** Highest level among the predicted cells (−1 when none). */
  readonly worstPredicted: number;
  /** Current drivers, largest first: `foresight_risk_driver` at its latest sample. */
  readonly drivers: ReadonlyArray<{ readonly driver: string; readonly points: number }>;
}

export interface HeatmapModel {
  readonly columns: readonly HeatmapColumn[];
  /** Index of the first predicted column (= columns.length when there are none). */
  readonly nowIndex: number;
  /** Unix ms of "now": the newest risk-score sample. */
  readonly now: number;
  readonly rows: readonly HeatmapRow[];
}

export interface HeatmapOptions {
  readonly sort: SortOrder;
  /** Horizons to show (label values); all when empty. */
  readonly horizons?: readonly string[];
  /** Past columns are merged (worst score wins) down to at most this many. */
  readonly maxPastColumns?: number;
}

export const RISK_SCORE = 'foresight_risk_score';
export const PREDICTED_RISK = 'foresight_predicted_risk_score';
export const RISK_DRIVER = 'foresight_risk_driver';

/** What the heatmap needs, for the "no data" message. */
export const HEATMAP_QUERIES = [RISK_SCORE, PREDICTED_RISK, RISK_DRIVER];

export function prepareHeatmap(series: readonly SeriesInput[], o: HeatmapOptions): HeatmapModel | { readonly message: string } {
  const scores = series.filter((s) => s.name === RISK_SCORE && s.labels['instance'] !== undefined);
  if (scores.length === 0) {
    return { message: `No ${RISK_SCORE} series with an instance label. Query ${RISK_SCORE} (range) and ${PREDICTED_RISK} (instant or range) from the Foresight sidecar.` };
  }
  // past columns: every sample time, merged into at most maxPastColumns buckets
  const allTimes = [...new Set(scores.flatMap((s) => s.times))].sort((a, b) => a - b);
  const maxCols = Math.max(1, o.maxPastColumns ?? 120);
  const bucketOf = (t: number): number => (allTimes.length <= maxCols ? allTimes.indexOf(t) : Math.min(maxCols - 1, Math.floor((rankOf(allTimes, t) * maxCols) / allTimes.length)));
  const pastCount = Math.min(maxCols, allTimes.length);
  const pastColumns: HeatmapColumn[] = Array.from({ length: pastCount }, (_, b) => {
    // a merged column is stamped with the newest time it covers
    const last = allTimes.length <= maxCols ? allTimes[b]! : allTimes[Math.min(allTimes.length - 1, Math.ceil(((b + 1) * allTimes.length) / maxCols) - 1)]!;
    return { time: last, predicted: false };
  });
  const now = allTimes[allTimes.length - 1]!;

  // future columns: one per horizon, ordered by length
  const wanted = o.horizons && o.horizons.length > 0 ? new Set(o.horizons) : undefined;
  const predicted = series.filter((s) => s.name === PREDICTED_RISK && s.labels['instance'] !== undefined && s.labels['horizon'] !== undefined);
  const horizons = [...new Set(predicted.map((s) => s.labels['horizon']!))]
    .filter((h) => durationSeconds(h) !== undefined && (!wanted || wanted.has(h)))
    .sort((a, b) => durationSeconds(a)! - durationSeconds(b)!);
  const futureColumns: HeatmapColumn[] = horizons.map((h) => ({ time: now + durationSeconds(h)! * 1000, predicted: true, horizon: h }));
  const columns = [...pastColumns, ...futureColumns];

  const byInstance = new Map<string, { profile: string; cells: Array<HeatmapCell | null>; drivers: Array<{ driver: string; points: number }> }>();
  const rowOf = (instance: string, profile: string | undefined): { profile: string; cells: Array<HeatmapCell | null>; drivers: Array<{ driver: string; points: number }> } => {
    let r = byInstance.get(instance);
    if (!r) {byInstance.set(instance, (r = { profile: profile ?? '', cells: columns.map(() => null), drivers: [] }));}
    if (!r.profile && profile) {r.profile = profile;}
    return r;
  };
  for (const s of scores) {
    const row = rowOf(s.labels['instance']!, s.labels['profile']);
    s.times.forEach((t, i) => {
      const v = s.values[i];
      if (v === null || v === undefined) {return;}
      const b = bucketOf(t);
      const prev = row.cells[b];
      if (!prev || v > prev.score) {row.cells[b] = { score: v, level: levelOf(v) };}
    });
  }
  for (const s of predicted) {
    const col = horizons.indexOf(s.labels['horizon']!);
    const last = lastValue(s);
    if (col < 0 || !last || !byInstance.has(s.labels['instance']!)) {continue;}
    rowOf(s.labels['instance']!, s.labels['profile']).cells[pastCount + col] = { score: last.value, level: levelOf(last.value) };
  }
  for (const s of series) {
    if (s.name !== RISK_DRIVER || s.labels['driver'] === undefined) {continue;}
    const r = byInstance.get(s.labels['instance'] ?? '');
    const last = lastValue(s);
    if (r && last && last.value > 0) {r.drivers.push({ driver: s.labels['driver'], points: last.value });}
  }

  const rows: HeatmapRow[] = [...byInstance.entries()].map(([instance, r]) => {
    const past = r.cells.slice(0, pastCount);
    let current = -1;
    for (let i = past.length - 1; i >= 0; i--) {
      if (past[i]) {
        current = past[i]!.level;
        break;
      }
    }
    const future = r.cells.slice(pastCount).filter((c): c is HeatmapCell => c !== null);
    return {
      instance,
      profile: r.profile,
      cells: r.cells,
      worstCurrent: current,
      worstPredicted: future.length ? Math.max(...future.map((c) => c.level)) : -1,
      drivers: r.drivers.sort((a, b) => b.points - a.points || a.driver.localeCompare(b.driver)),
    };
  });
  rows.sort(comparator(o.sort));
  return { columns, nowIndex: pastCount, now, rows };
}

function rankOf(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < t) {lo = mid + 1;}
    else {hi = mid;}
  }
  return lo;
}

function comparator(sort: SortOrder): (a: HeatmapRow, b: HeatmapRow) => number {
  const byName = (a: HeatmapRow, b: HeatmapRow): number => a.instance.localeCompare(b.instance, undefined, { numeric: true });
  if (sort === 'name') {return byName;}
  if (sort === 'worstPredicted') {return (a, b) => b.worstPredicted - a.worstPredicted || b.worstCurrent - a.worstCurrent || byName(a, b);}
  return (a, b) => b.worstCurrent - a.worstCurrent || b.worstPredicted - a.worstPredicted || byName(a, b);
}

/** The tooltip's text for one cell, as plain text lines (rendered as text, never HTML). */
export function cellTooltip(model: HeatmapModel, row: HeatmapRow, column: number): string[] {
  const col = model.columns[column];
  const cell = row.cells[column];
  if (!col) {return [];}
  const lines = [`${row.instance}${row.profile ? ` (${row.profile})` : ''}`];
  lines.push(col.predicted ? `predicted for now + ${col.horizon} (${new Date(col.time).toISOString().slice(0, 16).replace('T', ' ')} UTC)` : `${new Date(col.time).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  if (!cell) {
    lines.push('no data');
    return lines;
  }
  lines.push(`score ${cell.score.toFixed(0)} · ${levelName(cell.level)}`);
  if (!col.predicted && column === model.nowIndex - 1 && row.drivers.length > 0) {
    lines.push(`drivers: ${row.drivers.slice(0, 3).map((d) => `${d.driver} ${d.points.toFixed(0)}`).join(', ')}`);
  }
  return lines;
}

function levelName(level: number): string {
  return LEVELS[level]?.name ?? String(level);
}
