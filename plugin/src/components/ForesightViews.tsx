/**
 * Both views from one set of series: used by the Grafana panel and by the sidecar's preview
 * page alike, so what `npm start` shows is what Grafana shows.
 */
import React, { useMemo } from 'react';
import { DEFAULT_LEVEL_COLORS } from '../levels';
import type { SeriesInput } from '../series';
import { prepareHeatmap } from '../prepare/heatmap';
import { prepareCones } from '../prepare/cones';
import { thresholdsFor } from '../thresholds';
import type { PanelOptions } from '../types';
import { HeatmapView } from './HeatmapView';
import { ConeView } from './ConeView';

export interface ForesightViewsProps {
  readonly series: readonly SeriesInput[];
  readonly options: PanelOptions;
  readonly width: number;
  readonly height: number;
  readonly dark: boolean;
  /** Instances drawn as cones; the worst current instance when empty. */
  readonly coneInstances: readonly string[];
  readonly onSelectInstance?: (instance: string) => void;
}

export function Message({ text, dark }: { text: string; dark: boolean }): React.ReactElement {
  return (
    <div data-testid="message" style={{ padding: 8, fontSize: 13, color: dark ? '#d8d9da' : '#24292e' }}>
      {text}
    </div>
  );
}

export function ForesightViews({ series, options, width, height, dark, coneInstances, onSelectInstance }: ForesightViewsProps): React.ReactElement {
  const colors = options.levelColors?.length === 7 ? options.levelColors : DEFAULT_LEVEL_COLORS;
  const showHeatmap = options.view !== 'cones';
  const showCones = options.view !== 'heatmap';
  const heatmap = useMemo(() => (showHeatmap ? prepareHeatmap(series, { sort: options.sort, horizons: options.horizons, maxPastColumns: options.maxPastColumns }) : undefined), [series, showHeatmap, options.sort, options.horizons, options.maxPastColumns]);
  const instances = useMemo(() => {
    if (coneInstances.length > 0) {return coneInstances;}
    // no selection yet: the instance at the top of the heatmap (worst first by default)
    if (heatmap && 'rows' in heatmap && heatmap.rows[0]) {return [heatmap.rows[0].instance];}
    return [];
  }, [coneInstances, heatmap]);
  const cones = useMemo(
    () => (showCones ? prepareCones(series, { instances, metrics: options.metrics, horizons: options.horizons, thresholds: thresholdsFor(undefined) }) : undefined),
    [series, showCones, instances, options.metrics, options.horizons],
  );
  const heatmapHeight = showCones ? Math.round(height * 0.55) : height;
  const coneHeight = showHeatmap ? height - heatmapHeight - 6 : height;
  return (
    <div style={{ width, height, overflow: 'hidden' }}>
      {heatmap && ('message' in heatmap ? <Message text={heatmap.message} dark={dark} /> : <HeatmapView model={heatmap} colors={colors} width={width} height={heatmapHeight} dark={dark} onSelectInstance={onSelectInstance} />)}
      {showHeatmap && showCones && <div style={{ height: 6 }} />}
      {cones && ('message' in cones ? <Message text={cones.message} dark={dark} /> : <ConeView cones={cones} width={width} height={coneHeight} dark={dark} showThresholds={options.showThresholds} />)}
    </div>
  );
}
