/**
 * The browser harness: real React, @grafana/data and @grafana/ui, and the plugin's *built*
 * dist/module.js loaded through a small AMD `define()` shim, mounted with PanelProps and data
 * frames the way Grafana mounts a panel. @grafana/runtime is the one stand-in: it records the
 * location changes a click requests, since there is no Grafana app to navigate.
 */
import React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import * as grafanaData from '@grafana/data';
import * as grafanaUi from '@grafana/ui';

type Factory = (...deps: unknown[]) => unknown;

export interface MountRequest {
  frames: unknown[];
  options: Record<string, unknown>;
  width: number;
  height: number;
  mode: 'light' | 'dark';
  /** Value of the dashboard's `instance` variable; undefined when it does not exist. */
  instance?: string;
  /** The dashboard's time range in unix ms (default: the last 6 h). */
  from?: number;
  to?: number;
}

interface HarnessWindow {
  define?: ((deps: string[] | Factory, factory?: Factory) => void) & { amd?: boolean };
  locationCalls: Array<{ query: Record<string, unknown>; replace?: boolean }>;
  pluginModule?: { plugin: grafanaData.PanelPlugin };
  mount: (r: MountRequest) => void;
  harnessReady: boolean;
  /** The Grafana theme's primary text colour of the last mount, for the theme test. */
  themeText?: string;
}

const w = window as unknown as HarnessWindow;
w.locationCalls = [];
const runtime = {
  locationService: {
    partial: (query: Record<string, unknown>, replace?: boolean) => w.locationCalls.push({ query, replace }),
  },
};
const deps: Record<string, unknown> = {
  react: React,
  'react-dom': ReactDOM,
  '@grafana/data': grafanaData,
  '@grafana/ui': grafanaUi,
  '@grafana/runtime': runtime,
};

const define = (a: string[] | Factory, b?: Factory): void => {
  const names = Array.isArray(a) ? a : [];
  const factory = (Array.isArray(a) ? b : a) as Factory;
  const resolved = names.map((n) => {
    if (n === 'module') {
      return { uri: '/module.js' };
    }
    if (!(n in deps)) {
      throw new Error(`harness: dist/module.js needs ${n}, which the harness does not provide`);
    }
    return deps[n];
  });
  w.pluginModule = factory(...resolved) as { plugin: grafanaData.PanelPlugin };
};
define.amd = true;
w.define = define;

let root: Root | undefined;
w.mount = (r: MountRequest) => {
  const plugin = w.pluginModule?.plugin;
  if (!plugin || !plugin.panel) {
    throw new Error('harness: dist/module.js did not define a panel plugin');
  }
  const Panel = plugin.panel;
  const theme = grafanaData.createTheme({ colors: { mode: r.mode } });
  const to = r.to ?? Date.now();
  const timeRange = grafanaData.makeTimeRange(
    grafanaData.dateTime(r.from ?? to - 6 * 3600 * 1000),
    grafanaData.dateTime(to)
  );
  w.themeText = theme.colors.text.primary;
  const container = document.getElementById('panel')!;
  container.style.background = theme.colors.background.primary;
  root ??= createRoot(container);
  // committed before mount() returns: React 18 renders a root asynchronously, and a test that reads
  // the DOM right after mounting (allInnerTexts, count) must see this frame, not the previous one
  ReactDOM.flushSync(() =>
    root!.render(
      <grafanaUi.ThemeContext.Provider value={theme}>
        <Panel
          id={1}
          data={{ series: r.frames as grafanaData.DataFrame[], state: grafanaData.LoadingState.Done, timeRange }}
          timeRange={timeRange}
          timeZone="utc"
          options={r.options}
          fieldConfig={{ defaults: {}, overrides: [] }}
          transparent={false}
          width={r.width}
          height={r.height}
          renderCounter={1}
          title="Foresight"
          eventBus={{} as grafanaData.EventBus}
          onOptionsChange={() => undefined}
          onFieldConfigChange={() => undefined}
          onChangeTimeRange={() => undefined}
          replaceVariables={(text: string) =>
            r.instance === undefined ? text : text.replace(/\$\{instance(:[a-z]+)?\}|\$instance/g, r.instance)
          }
        />
      </grafanaUi.ThemeContext.Provider>
    )
  );
};
w.harnessReady = true;
