import { PanelPlugin } from '@grafana/data';
import { RiskPanel } from './components/RiskPanel';
import { DEFAULT_LEVEL_COLORS, LEVELS } from './levels';
import type { PanelOptions } from './types';

export const plugin = new PanelPlugin<PanelOptions>(RiskPanel).setPanelOptions((builder) => {
  builder
    .addRadio({
      path: 'view',
      name: 'View',
      defaultValue: 'both',
      settings: {
        options: [
          { value: 'heatmap', label: 'Heatmap' },
          { value: 'cones', label: 'Cones' },
          { value: 'both', label: 'Both' },
        ],
      },
    })
    .addRadio({
      path: 'sort',
      name: 'Sort rows by',
      defaultValue: 'worstCurrent',
      settings: {
        options: [
          { value: 'worstCurrent', label: 'Worst now' },
          { value: 'worstPredicted', label: 'Worst predicted' },
          { value: 'name', label: 'Name' },
        ],
      },
      showIf: (o) => o.view !== 'cones',
    })
    .addStringArray({
      path: 'metrics',
      name: 'Metrics (cones)',
      description: 'cpu, memory, disk, iowait, load, network; all when empty',
      defaultValue: [],
    })
    .addStringArray({
      path: 'horizons',
      name: 'Horizons',
      description: 'horizon label values such as 30m, 1h, 8h; all when empty',
      defaultValue: [],
    })
    .addBooleanSwitch({
      path: 'showThresholds',
      name: 'Show thresholds',
      description: "The profile's warning and critical thresholds and the predicted breach",
      defaultValue: true,
    })
    .addNumberInput({
      path: 'maxPastColumns',
      name: 'Past columns',
      description: 'Past samples are merged (worst wins) down to this many columns',
      defaultValue: 120,
      settings: { min: 10, max: 1000, integer: true },
    });
  LEVELS.forEach((l, i) =>
    builder.addColorPicker({
      path: `levelColors[${i}]`,
      name: `${l.display} colour`,
      category: ['Level colours'],
      defaultValue: DEFAULT_LEVEL_COLORS[i],
    })
  );
  return builder;
});
