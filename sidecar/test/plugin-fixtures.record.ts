/**
 * Records the panel plugin's test fixtures from a real run: simulated history in a real
 * Prometheus → the sidecar (shipped model) on a driven clock across a healthy → critical switch →
 * Prometheus scraping the sidecar → the queries the panel's dashboards make, saved as Grafana
 * data frames (what the Prometheus datasource hands a panel) in
 * plugin/src/__fixtures__/frames.json.
 *
 *     npm run record-fixtures -w sidecar
 *
 * Not part of `npm test` (it rewrites a committed file); the plugin's tests read its output.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PromSeries } from './harness/prometheus';
import { freePort } from './harness/processes';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';

jest.setTimeout(600_000);

const REPO = path.join(__dirname, '..', '..');
const HOUR = 3600;
const OUT = path.join(REPO, 'plugin', 'src', '__fixtures__', 'frames.json');

interface Frame {
  refId: string;
  name: string;
  length: number;
  fields: Array<{ name: string; type: 'time' | 'number'; config: Record<string, never>; values: number[]; labels?: Record<string, string> }>;
}

/** Prometheus matrix → data frames, one per series, as Grafana's Prometheus datasource shapes them. */
function frames(refId: string, series: readonly PromSeries[]): Frame[] {
  return series.map((s) => ({
    refId,
    name: s.metric['__name__'] ?? refId,
    length: s.values.length,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: s.values.map(([t]) => Math.round(t * 1000)) },
      { name: 'Value', type: 'number', config: {}, labels: { ...s.metric }, values: s.values.map(([, v]) => Number(v)) },
    ],
  }));
}

describeWith(['prometheus', 'promtool'])('plugin fixtures', () => {
  afterAll(() => removeTempDirs());

  test('record frames from a real sidecar and Prometheus', async () => {
    const h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,40h:critical',
      incidents: 4,
      incidentsWindow: [3 * HOUR, 34 * HOUR],
    });
    const port = await freePort();
    const prom = await startPrometheus({
      blocksDir: h.blocksDir,
      scrapeConfigs: [{ job_name: 'foresight', honor_labels: true, scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    });
    const loaded = await parseConfig(
      // every horizon × percentile (exporter.full): the panel's fixtures hold whole cones
      {
        listen: `127.0.0.1:${port}`,
        source: { type: 'prometheus', interval: '24h', prometheus: { url: prom.url, timeout: '10s', retries: 0 } },
        model: { device: 'cpu' },
        exporter: { full: true },
      },
      'record',
    );
    const clock = { t: h.start + 38 * HOUR };
    const app = createApp({ loaded, repoRoot: REPO, now: () => clock.t, log: () => undefined });
    await app.start();
    const real0 = Math.floor(Date.now() / 1000);
    try {
      // 5 simulated minutes per cycle, one scrape between cycles: 38 h → 41 h crosses the switch to critical at 40 h
      while (clock.t < h.start + 41 * HOUR) {
        clock.t += 300;
        await app.runCycle();
        // Prometheus scrapes every second: each cycle gets at least one sample
        await new Promise((r) => setTimeout(r, 1500));
      }
      const real1 = Math.floor(Date.now() / 1000);
      const range = (q: string): Promise<PromSeries[]> => prom.queryRange(q, real0, real1, 2);
      const instant = async (q: string): Promise<PromSeries[]> => (await prom.query(q, real1)).map((s) => ({ metric: s.metric, values: [s.value] }));
      const cone = 'instance=~"ppdb001|ppml0001"';
      const out = {
        recorded: `sidecar + Prometheus ${new Date().toISOString().slice(0, 10)}; data clock ${new Date((h.start + 38 * HOUR) * 1000).toISOString()} → +3 h, healthy → critical at +2 h; Prometheus time ${real0}–${real1}`,
        heatmap: [
          ...frames('A', await range('foresight_risk_score')),
          ...frames('B', await instant('foresight_predicted_risk_score')),
          ...frames('C', await instant('foresight_risk_driver')),
        ],
        cones: [...frames('A', await range(`foresight_metric_value{${cone}}`)), ...frames('B', await instant(`foresight_forecast{${cone}}`))],
      };
      await writeFile(OUT, JSON.stringify(out) + '\n');
      expect(out.heatmap.length).toBeGreaterThan(20);
    } finally {
      await app.stop();
      await prom.stop();
    }
  });
});
