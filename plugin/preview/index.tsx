/**
 * The sidecar's preview page (GET /): the panel's own views fed from the sidecar's JSON API,
 * refreshed on every cycle (server-sent events), in the preview's own theme. Built by the
 * plugin's `npm run build` into plugin/dist-preview/preview.js, which the sidecar serves.
 *
 * The cones show the clicked row, or else the server with the worst predicted level: the page
 * picks that server from the same fleet data the heatmap draws, fetches its forecast and hands
 * both over together, so the cones never wait on a server whose forecast was not fetched.
 */
import React, { useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ForesightViews, SourceBanner, type TimeFormatter } from '../src/components/ForesightViews';
import { PREVIEW_THEME, ViewThemeContext } from '../src/components/theme';
import { type FleetJson, type ForecastJson, fleetSeries, forecastSeries } from '../src/sidecarSeries';
import type { SeriesInput } from '../src/series';
import { DEFAULT_LEVEL_COLORS } from '../src/levels';
import { prepareHeatmap, worstInstance } from '../src/prepare/heatmap';
import { type SourceState, describeSource, sourceFromFleet } from '../src/prepare/source';
import type { PanelOptions } from '../src/types';

const OPTIONS: PanelOptions = {
  view: 'both',
  sort: 'worstCurrent',
  metrics: [],
  horizons: [],
  showThresholds: true,
  maxPastColumns: 72,
  levelColors: [...DEFAULT_LEVEL_COLORS],
};
/** The past the heatmap spans: the 6 h of risk history `/api/v1/fleet` keeps per instance. */
const PAST_WINDOW = 6 * 3600 * 1000;

const pad = (n: number): string => String(n).padStart(2, '0');
/** The browser's local time, 24-hour. */
const formatTime: TimeFormatter = (ms, withDate) => {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}` : hm;
};

interface View {
  readonly series: SeriesInput[];
  /** The instance whose forecast was fetched (undefined for an empty fleet). */
  readonly target: string | undefined;
  readonly reason: 'selected' | 'worst';
  readonly source: SourceState | undefined;
  readonly status: string;
  /** Unix ms when the page last refreshed ("n min ago" in the source banner). */
  readonly at: number;
}

function sourceOf(fleet: FleetJson): SourceState | undefined {
  if (fleet.source) {
    return sourceFromFleet(fleet.source);
  }
  // an older sidecar without `source`: only `stale` says the source is down, not which one
  return fleet.stale
    ? {
        type: 'unknown',
        url: null,
        up: false,
        downSince: null,
        lastSuccess: fleet.lastSuccess ? fleet.lastSuccess * 1000 : null,
        error: null,
      }
    : undefined;
}

function App(): React.ReactElement {
  const [view, setView] = useState<View>({
    series: [],
    target: undefined,
    reason: 'worst',
    source: undefined,
    status: 'loading…',
    at: 0,
  });
  const [selected, setSelected] = useState<string | undefined>(
    () => new URLSearchParams(location.search).get('instance') ?? undefined
  );
  const [size, setSize] = useState({ width: window.innerWidth - 32, height: window.innerHeight - 90 });

  const refresh = useCallback(async () => {
    const fleet = (await (await fetch('api/v1/fleet')).json()) as FleetJson;
    const source = sourceOf(fleet);
    const from = source
      ? ` · source: ${describeSource(source)}${fleet.source?.clock ? ` (simulated clock, ${fleet.source.clock.speed}× real time)` : ''}`
      : '';
    if (fleet.origin === null) {
      setView({
        series: [],
        target: undefined,
        reason: 'worst',
        source,
        status: source && !source.up ? `no forecast yet${from}` : `waiting for the first forecast cycle…${from}`,
        at: Date.now(),
      });
      return;
    }
    const fromFleet = fleetSeries(fleet);
    const model = prepareHeatmap(fromFleet, {
      sort: OPTIONS.sort,
      pastWindow: PAST_WINDOW,
      maxPastColumns: OPTIONS.maxPastColumns,
    });
    const known = selected !== undefined && fleet.instances.some((i) => i.instance === selected);
    const target = known ? selected : 'rows' in model ? worstInstance(model.rows) : undefined;
    let fromForecast: SeriesInput[] = [];
    if (target) {
      const r = await fetch(`api/v1/instances/${encodeURIComponent(target)}/forecast`);
      if (r.ok) {
        fromForecast = forecastSeries((await r.json()) as ForecastJson);
      }
    }
    setView({
      series: [...fromFleet, ...fromForecast],
      target,
      reason: known ? 'selected' : 'worst',
      source,
      at: Date.now(),
      status: `${fleet.instances.length} instances · forecast origin ${new Date(fleet.origin * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC${from}${source && !source.up ? ' · source down: showing the last good forecasts' : ''}`,
    });
  }, [selected]);

  useEffect(() => {
    // the first refresh when the stream opens, then one per forecast cycle
    const events = new EventSource('api/v1/stream');
    events.addEventListener('open', () => void refresh());
    events.addEventListener('cycle', () => void refresh());
    return () => events.close();
  }, [refresh]);
  useEffect(() => {
    const onResize = (): void => setSize({ width: window.innerWidth - 32, height: window.innerHeight - 90 });
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  return (
    <ViewThemeContext.Provider value={PREVIEW_THEME}>
      <p data-testid="status" style={{ margin: '4px 0 8px', fontSize: 13 }}>
        {view.status} · click a row to see its forecast cones · <a href="metrics">/metrics</a> ·{' '}
        <a href="api/v1/fleet">/api/v1/fleet</a>
      </p>
      {view.series.length === 0 ? (
        // before the first forecast: say so (and name a source that is down), never the panel's
        // hints about Grafana queries, which do not apply here
        <>
          {view.source && !view.source.up && (
            <SourceBanner source={view.source} formatTime={formatTime} now={view.at} />
          )}
          <p data-testid="waiting" style={{ fontSize: 13 }}>
            {view.at === 0
              ? 'Loading the fleet from the sidecar…'
              : 'No forecasts yet: the heatmap and cones appear after the first forecast cycle.'}
          </p>
        </>
      ) : (
        <ForesightViews
          series={view.series}
          options={OPTIONS}
          width={size.width}
          height={size.height}
          coneInstances={view.target ? [view.target] : []}
          coneReason={view.reason}
          onSelectInstance={setSelected}
          formatTime={formatTime}
          pastWindow={PAST_WINDOW}
          source={view.source}
          now={view.at}
        />
      )}
    </ViewThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
