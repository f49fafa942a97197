import type { SortOrder } from './prepare/heatmap';

export type ViewMode = 'heatmap' | 'cones' | 'both';

export interface PanelOptions {
  view: ViewMode;
  sort: SortOrder;
  /** Metrics drawn as cones; all when empty. */
  metrics: string[];
  /** Horizons shown (predicted columns and cone points); all when empty. */
  horizons: string[];
  showThresholds: boolean;
  /** Past columns are merged down to at most this many. */
  maxPastColumns: number;
  /** Colour per level, healthy … imminent_failure. */
  levelColors: string[];
}
