/**
 * Both views from one set of series: used by the Grafana panel and by the sidecar's preview
 * page alike, so what `npm start` shows is what Grafana shows. The cones follow the selected
 * row, or, with nothing selected, the server with the worst predicted level; a source that is
 * down is named above both.
 */
import React, { useMemo } from 'react';
import { LEVELS, levelColorsFor } from '../levels';
import type { SeriesInput } from '../series';
import { type HeatmapModel, prepareHeatmap, timeAndAge, worstInstance } from '../prepare/heatmap';
import { prepareCones } from '../prepare/cones';
import { type SourceState, sourceDownLines } from '../prepare/source';
import { thresholdsFor } from '../thresholds';
import type { PanelOptions } from '../types';
import { HEATMAP_HEADER, HeatmapView } from './HeatmapView';
import { ConeView, type ConeSummary } from './ConeView';
import { useViewTheme } from './theme';

/** Formats a unix-ms instant: clock time ("14:05"), or date and time ("2026-12-01 14:05"). */
export type TimeFormatter = (ms: number, withDate?: boolean) => string;

export interface ForesightViewsProps {
  readonly series: readonly SeriesInput[];
  readonly options: PanelOptions;
  readonly width: number;
  readonly height: number;
  /** Instances drawn as cones; the worst predicted instance when empty. */
  readonly coneInstances: readonly string[];
  /** Why coneInstances were chosen: a click (default) or as the worst predicted server. */
  readonly coneReason?: 'selected' | 'worst';
  readonly onSelectInstance?: (instance: string) => void;
  readonly formatTime: TimeFormatter;
  /** Length of the heatmap's past window in ms (the dashboard's range; the preview's 6 h). */
  readonly pastWindow?: number;
  /** Where the data comes from; a banner names it while it is down. */
  readonly source?: SourceState;
  /** Unix ms, for "n min ago" in the source banner. */
  readonly now: number;
}

export function Message({ text }: { text: string }): React.ReactElement {
  const theme = useViewTheme();
  return (
    <div data-testid="message" style={{ padding: 8, fontSize: 13, color: theme.text }}>
      {text}
    </div>
  );
}

export function SourceBanner({
  source,
  formatTime,
  now,
}: {
  source: SourceState;
  formatTime: TimeFormatter;
  now: number;
}): React.ReactElement {
  const theme = useViewTheme();
  return (
    <div
      data-testid="source-down"
      role="alert"
      style={{
        padding: '6px 10px',
        marginBottom: 6,
        fontSize: 13,
        color: theme.errorText,
        background: theme.errorBackground,
        border: `1px solid ${theme.errorText}`,
        borderRadius: 3,
      }}
    >
      {sourceDownLines(source, (ms) => formatTime(ms, true), now).map((l, i) => (
        <div key={i} style={{ fontWeight: i === 0 ? 600 : 400 }}>
          {l}
        </div>
      ))}
    </div>
  );
}

/**
 * "ppdb002 · database — now Critical (84) · predicted Imminent Failure (93) by +2h": who, how bad,
 * when; "stale: last data at 13:40 (20 min ago) —" before it while the data is stale, and for an
 * unknown server that there is no current forecast.
 */
export function coneSummary(
  model: HeatmapModel,
  instance: string,
  selected: boolean,
  formatTime: (ms: number) => string = (ms) => new Date(ms).toISOString().slice(11, 16)
): ConeSummary | undefined {
  const row = model.rows.find((r) => r.instance === instance);
  if (!row) {
    return undefined;
  }
  const who = `${row.instance}${row.profile ? ` · ${row.profile}` : ''}`;
  const parts = ['—'];
  const since =
    row.dataAt !== null
      ? `last data at ${timeAndAge(row.dataAt, model.now, formatTime)}`
      : 'no good data in the time range';
  if (row.state === 'unknown') {
    parts.push(`unknown: ${since}; no current forecast`);
    parts.push(selected ? '· selected' : '');
    return { who, text: parts.join(' ').trim() };
  }
  if (row.state === 'stale') {
    parts.push(`stale: ${since} —`);
  }
  const cur =
    row.worstCurrent >= 0
      ? `${row.state === 'stale' ? 'last good' : 'now'} ${LEVELS[row.worstCurrent]!.display} (${row.currentScore.toFixed(0)})`
      : 'now: no data';
  parts.push(cur);
  if (row.worstPredicted >= 0) {
    // the first horizon that reaches the worst predicted level, and its score
    const k = row.cells.findIndex((c, i) => i >= model.nowIndex && c !== null && c.level === row.worstPredicted);
    const col = model.columns[k];
    const cell = row.cells[k];
    parts.push(
      `· predicted ${LEVELS[row.worstPredicted]!.display}${cell ? ` (${cell.score.toFixed(0)})` : ''}${col?.horizon ? ` by +${col.horizon}` : ''}`
    );
  }
  parts.push(selected ? '· selected' : '· the worst predicted server (click a row for another)');
  return { who, text: parts.join(' ') };
}

export function ForesightViews({
  series,
  options,
  width,
  height,
  coneInstances,
  coneReason,
  onSelectInstance,
  formatTime,
  pastWindow,
  source,
  now,
}: ForesightViewsProps): React.ReactElement {
  const theme = useViewTheme();
  const colors = levelColorsFor(options.levelColors, theme.isDark);
  const showHeatmap = options.view !== 'cones';
  const showCones = options.view !== 'heatmap';
  const heatmap = useMemo(
    () =>
      prepareHeatmap(series, {
        sort: options.sort,
        horizons: options.horizons,
        maxPastColumns: options.maxPastColumns,
        ...(pastWindow ? { pastWindow } : {}),
      }),
    [series, options.sort, options.horizons, options.maxPastColumns, pastWindow]
  );
  const model = 'rows' in heatmap ? heatmap : undefined;
  const selected = coneInstances.length > 0 && coneReason !== 'worst';
  const instances = useMemo(() => {
    if (coneInstances.length > 0) {
      return coneInstances;
    }
    const worst = model ? worstInstance(model.rows) : undefined;
    return worst ? [worst] : [];
  }, [coneInstances, model]);
  const cones = useMemo(
    () =>
      showCones
        ? prepareCones(series, {
            instances,
            metrics: options.metrics,
            horizons: options.horizons,
            thresholds: thresholdsFor(),
          })
        : undefined,
    [series, showCones, instances, options.metrics, options.horizons]
  );
  const down = source && !source.up ? source : undefined;
  const bannerHeight = down ? 24 + 18 * (down.error ? 2 : 1) + 6 : 0;
  const available = height - bannerHeight;
  const heatmapHeight = !showHeatmap
    ? 0
    : !showCones
      ? available
      : model
        ? Math.min(HEATMAP_HEADER + model.rows.length * 20, Math.round(available * 0.55))
        : 60;
  const coneHeight = showHeatmap ? available - heatmapHeight - 8 : available;
  const summary =
    model && instances.length === 1
      ? coneSummary(model, instances[0]!, selected, (ms) => formatTime(ms, true))
      : undefined;
  return (
    <div style={{ width, height, overflow: 'hidden', color: theme.text, fontFamily: theme.fontFamily }}>
      {down && <SourceBanner source={down} formatTime={formatTime} now={now} />}
      {showHeatmap &&
        (model ? (
          <HeatmapView
            model={model}
            colors={colors}
            width={width}
            height={heatmapHeight}
            selected={instances.length === 1 ? instances[0] : undefined}
            onSelectInstance={onSelectInstance}
            formatTime={formatTime}
          />
        ) : (
          <Message text={(heatmap as { message: string }).message} />
        ))}
      {showHeatmap && showCones && <div style={{ height: 8 }} />}
      {cones &&
        ('message' in cones ? (
          <Message text={cones.message} />
        ) : (
          <ConeView
            set={cones}
            width={width}
            height={coneHeight}
            showThresholds={options.showThresholds}
            formatTime={formatTime}
            summary={summary}
          />
        ))}
    </div>
  );
}
