/**
 * The Grafana panel: frames → series, the dashboard's `instance` variable → cones, clicks → that
 * variable, Grafana's theme (through `useStyles2`) → the views' colours, the dashboard's time
 * range → the heatmap's past window and its time zone → the clock times.
 */
import React, { useCallback, useMemo } from 'react';
import { type PanelProps, dateTimeFormat } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { useStyles2 } from '@grafana/ui';
import { framesToSeries } from '../series';
import { prepareSourceState } from '../prepare/source';
import type { PanelOptions } from '../types';
import { ForesightViews } from './ForesightViews';
import { ViewThemeContext, viewThemeFromGrafana } from './theme';

/** The dashboard variable a row click sets, and the cones read. */
export const INSTANCE_VARIABLE = 'instance';

export function selectedInstances(replaceVariables: PanelProps['replaceVariables']): string[] {
  const raw = replaceVariables(`\${${INSTANCE_VARIABLE}:csv}`);
  // an undefined variable comes back unreplaced; "All" comes back as every value or $__all
  if (!raw || raw.includes('$') || raw === 'All') {
    return [];
  }
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '.*');
}

export function RiskPanel({
  data,
  options,
  width,
  height,
  replaceVariables,
  timeRange,
  timeZone,
}: PanelProps<PanelOptions>): React.ReactElement {
  const viewTheme = useStyles2(viewThemeFromGrafana);
  const series = useMemo(() => framesToSeries(data.series), [data.series]);
  const source = useMemo(() => prepareSourceState(series), [series]);
  const instances = selectedInstances(replaceVariables);
  const formatTime = useCallback(
    (ms: number, withDate?: boolean) =>
      dateTimeFormat(ms, { format: withDate ? 'YYYY-MM-DD HH:mm' : 'HH:mm', timeZone }),
    [timeZone]
  );
  const pastWindow = timeRange.to.valueOf() - timeRange.from.valueOf();
  return (
    <ViewThemeContext.Provider value={viewTheme}>
      <ForesightViews
        series={series}
        options={options}
        width={width}
        height={height}
        coneInstances={instances}
        formatTime={formatTime}
        pastWindow={pastWindow > 0 ? pastWindow : undefined}
        source={source}
        now={timeRange.to.valueOf()}
        onSelectInstance={(instance) => locationService.partial({ [`var-${INSTANCE_VARIABLE}`]: instance }, true)}
      />
    </ViewThemeContext.Provider>
  );
}
