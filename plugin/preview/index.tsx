/**
 * The sidecar's preview page (GET /): the panel's own views fed from the sidecar's JSON API,
 * refreshed on every cycle (server-sent events). Built by the plugin's `npm run build` into
 * plugin/dist-preview/preview.js, which the sidecar serves.
 */
import React, { useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ForesightViews } from '../src/components/ForesightViews';
import { type FleetJson, type ForecastJson, fleetSeries, forecastSeries } from '../src/sidecarSeries';
import type { SeriesInput } from '../src/series';
import { DEFAULT_LEVEL_COLORS } from '../src/levels';
import type { PanelOptions } from '../src/types';

const OPTIONS: PanelOptions = { view: 'both', sort: 'worstCurrent', metrics: [], horizons: [], showThresholds: true, maxPastColumns: 72, levelColors: [...DEFAULT_LEVEL_COLORS] };

function App(): React.ReactElement {
  const [series, setSeries] = useState<SeriesInput[]>([]);
  const [status, setStatus] = useState('loading…');
  const [selected, setSelected] = useState<string | undefined>(() => new URLSearchParams(location.search).get('instance') ?? undefined);
  const [size, setSize] = useState({ width: window.innerWidth - 32, height: window.innerHeight - 90 });

  const refresh = useCallback(async () => {
    const fleet = (await (await fetch('api/v1/fleet')).json()) as FleetJson;
    if (fleet.origin === null) {
      setStatus('waiting for the first forecast cycle…');
      return;
    }
    const fromFleet = fleetSeries(fleet);
    const worst = [...fleet.instances].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0]?.instance;
    const instance = selected ?? worst;
    let fromForecast: SeriesInput[] = [];
    if (instance) {
      const r = await fetch(`api/v1/instances/${encodeURIComponent(instance)}/forecast`);
      if (r.ok) {fromForecast = forecastSeries((await r.json()) as ForecastJson);}
    }
    setSeries([...fromFleet, ...fromForecast]);
    setStatus(`${fleet.instances.length} instances · forecast origin ${new Date(fleet.origin * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC${fleet.stale ? ' · source down: showing the last good forecasts' : ''}`);
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

  const instances = selected ? [selected] : [];
  return (
    <div>
      <p data-testid="status" style={{ margin: '4px 0 8px', fontSize: 13 }}>
        {status} · click a row to see its forecast cones · <a href="metrics">/metrics</a> · <a href="api/v1/fleet">/api/v1/fleet</a>
      </p>
      <ForesightViews series={series} options={OPTIONS} width={size.width} height={size.height} dark={false} coneInstances={instances} onSelectInstance={setSelected} />
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
