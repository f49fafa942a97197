/** The Grafana panel: frames → series, the dashboard's `instance` variable → cones, clicks → that variable. */
import React, { useMemo } from 'react';
import type { PanelProps } from '@grafana/data';
import { locationService } from '@grafana/runtime';
import { useTheme2 } from '@grafana/ui';
import { framesToSeries } from '../series';
import type { PanelOptions } from '../types';
import { ForesightViews } from './ForesightViews';

/** The dashboard variable a row click sets, and the cones read. */
export const INSTANCE_VARIABLE = 'instance';

export function selectedInstances(replaceVariables: PanelProps['replaceVariables']): string[] {
  const raw = replaceVariables(`\${${INSTANCE_VARIABLE}:csv}`);
  // an undefined variable comes back unreplaced; "All" comes back as every value or $__all
  if (!raw || raw.includes('$') || raw === 'All') {return [];}
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== '.*');
}

export function RiskPanel({ data, options, width, height, replaceVariables }: PanelProps<PanelOptions>): React.ReactElement {
  const theme = useTheme2();
  const series = useMemo(() => framesToSeries(data.series), [data.series]);
  const instances = selectedInstances(replaceVariables);
  return (
    <ForesightViews
      series={series}
      options={options}
      width={width}
      height={height}
      dark={theme.isDark}
      coneInstances={instances}
      onSelectInstance={(instance) => locationService.partial({ [`var-${INSTANCE_VARIABLE}`]: instance }, true)}
    />
  );
}
