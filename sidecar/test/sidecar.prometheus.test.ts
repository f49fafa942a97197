/**
 * The sidecar against a real Prometheus backfilled from the simulator, with the shipped model:
 * forecasts for the whole fleet, readable back through a Prometheus scraping the sidecar, and
 * staying up (stale but published) while Prometheus is down.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BINARIES, describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle, SimulatedHistory } from './harness/prometheus';
import { freePort, waitFor } from './harness/processes';
import { parseExposition } from './harness/exposition';
import type { Sample } from './harness/exposition';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { ConfigSchema } from '../src/config/schema';
import { METRIC_NAMES, PERCENT_METRICS } from '../src/profiles/profiles';
import { METRICS } from '../src/source/promql';
import { PrometheusSource } from '../src/source/prometheus';
import type { MetricName } from '../src/profiles/profiles';

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const HOUR = 3600;

async function metrics(app: App): Promise<{ text: string; samples: Sample[] }> {
  const text = await (await fetch(`${app.address()}/metrics`)).text();
  return { text, samples: parseExposition(text) };
}

describeWith(['prometheus', 'promtool'])('sidecar with a real Prometheus', () => {
  let h: SimulatedHistory;
  let prom: PrometheusHandle;
  let app: App;
  let port: number;
  let promPort: number;

  beforeAll(async () => {
    // the same cached two days the simulator tests use, ending on the hour before now
    h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,40h:critical',
      incidents: 4,
      incidentsWindow: [3 * HOUR, 34 * HOUR],
    });
    port = await freePort();
    promPort = await freePort();
    prom = await startPrometheus({
      blocksDir: h.blocksDir,
      port: promPort,
      scrapeConfigs: [
        { job_name: 'foresight', honor_labels: true, scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${port}`] }] },
        // a target labelled profile="database" for ppweb001 (Prometheus scraping itself under that
        // name): the sidecar's profiles.label_query finds it on `up`
        {
          job_name: 'profile-label',
          scrape_interval: '1s',
          static_configs: [{ targets: [`127.0.0.1:${promPort}`], labels: { instance: 'ppweb001', profile: 'database' } }],
        },
      ],
    });
    const loaded = await parseConfig(
      {
        listen: `127.0.0.1:${port}`,
        source: { type: 'prometheus', interval: '1s', prometheus: { url: prom.url, timeout: '5s', retries: 0 } },
        model: { path: path.join(REPO, 'models', 'foresight-tft'), device: 'cpu' },
        // every horizon × percentile, so the checks below see every forecast the model makes
        exporter: { full: true },
      },
      'test config',
    );
    // the history ends on the hour: read windows ending there
    app = createApp({ loaded, repoRoot: REPO, now: () => h.end - h.step, log: () => undefined });
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await prom?.stop();
    await removeTempDirs();
  });

  test('when a cycle has run, then /metrics has 20 × 6 × 7 × 3 forecasts, monotone, finite and in range, and passes promtool', async () => {
    const { text, samples } = await metrics(app);
    const f = samples.filter((s) => s.name === 'foresight_forecast');
    expect(f).toHaveLength(20 * 6 * 7 * 3);
    expect(new Set(f.map((s) => s.labels['instance']))).toEqual(new Set(h.sim.servers.map((s) => s.instance)));
    expect(new Set(f.map((s) => s.labels['horizon']))).toEqual(new Set(['30m', '1h', '2h', '3h', '4h', '6h', '8h']));
    const groups = new Map<string, Record<string, number>>();
    for (const s of f) {
      expect(Number.isFinite(s.value)).toBe(true);
      expect(s.value).toBeGreaterThanOrEqual(0);
      if (PERCENT_METRICS.has(s.labels['metric'] as MetricName)) expect(s.value).toBeLessThanOrEqual(100);
      const key = `${s.labels['instance']}|${s.labels['metric']}|${s.labels['horizon']}`;
      groups.set(key, { ...groups.get(key), [s.labels['percentile']!]: s.value });
    }
    for (const [key, p] of groups) {
      if (!(p['10']! <= p['50']! && p['50']! <= p['90']!)) throw new Error(`${key}: percentiles cross: ${JSON.stringify(p)}`);
    }
    expect(text).not.toMatch(/\bNaN\b/);
    expect(samples.filter((s) => s.name === 'foresight_instance_ready' && s.value === 1)).toHaveLength(20);
    expect(samples.find((s) => s.name === 'foresight_model_info')?.labels['execution_provider']).toBe('cpu');
    const r = spawnSync(BINARIES.promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: r.status, output: r.stdout + r.stderr }).toEqual({ status: 0, output: '' });
  });

  test('when Prometheus scrapes the sidecar with honor_labels, then the forecasts keep the original instance labels', async () => {
    const result = await waitFor(
      'forecasts scraped back',
      async () => {
        const r = await prom.query('count by (instance) (foresight_forecast{metric="memory",percentile="50"})');
        return r.length === 20 ? r : undefined;
      },
      60_000,
      500,
    );
    expect(result.map((r) => r.metric['instance']).sort()).toEqual(h.sim.servers.map((s) => s.instance).sort());
    expect(result.every((r) => r.value[1] === '7')).toBe(true);
  });

  test('when a target carries a profile label, then that profile wins over the instance rules', async () => {
    const profileOf = async (instance: string): Promise<string | undefined> =>
      (await metrics(app)).samples.find((x) => x.name === 'foresight_risk_score' && x.labels['instance'] === instance)?.labels['profile'];
    await waitFor('ppweb001 scored as database', async () => ((await profileOf('ppweb001')) === 'database' ? true : undefined), 60_000, 500);
    // instances without the label keep the profile their name implies
    expect(await profileOf('ppweb002')).toBe('web_api');
    expect(await profileOf('ppdb001')).toBe('database');
  });

  test('when a contract-2 model is served, then its hourly read holds the 5-minute values at those instants and every server gets forecasts with its history stated', async () => {
    // the default expressions, read as the sidecar reads them for the model
    const config = ConfigSchema.parse({ source: { type: 'prometheus', prometheus: { url: prom.url, timeout: '20s', retries: 0 } } }).source.prometheus!;
    const source = new PrometheusSource({
      config,
      secrets: {},
      queries: Object.fromEntries(METRIC_NAMES.map((m) => [m, METRICS[m].expr])) as Record<MetricName, string>,
    });
    const end = h.end - h.step - ((h.end - h.step) % 300);
    try {
      const fine = await source.fetch(end, 289, 300);
      const hourly = await source.fetch(end, 25, 3600, { profiles: false });
      let compared = 0;
      for (const [instance, m] of hourly.instances) {
        for (const metric of METRIC_NAMES) {
          for (let k = 0; k < 25; k++) {
            const want = fine.instances.get(instance)?.[metric]?.[k * 12];
            expect([instance, metric, k, m[metric]?.[k]]).toEqual([instance, metric, k, want]);
            if (Number.isFinite(want)) compared++;
          }
        }
      }
      expect(compared).toBeGreaterThan(20 * 6 * 24);
    } finally {
      source.close();
    }
    const v2 = createApp({
      loaded: await parseConfig(
        {
          listen: '127.0.0.1:0',
          source: { type: 'prometheus', interval: '1h', prometheus: { url: prom.url, timeout: '20s', retries: 0 } },
          // the committed smoke model forecasts 1 h
          forecast: { horizons: ['30m', '1h'] },
          model: { path: path.join(__dirname, 'fixtures', 'model-v2-smoke'), device: 'cpu' },
        },
        'test config',
      ),
      repoRoot: REPO,
      now: () => h.end - h.step,
      log: () => undefined,
    });
    await v2.start();
    try {
      const { samples } = await metrics(v2);
      expect(samples.find((s) => s.name === 'foresight_model_info')?.labels['model']).toBe('foresight-tft2-smoke');
      const f = samples.filter((s) => s.name === 'foresight_forecast');
      // by default at the longest horizon only (1h)
      expect(f).toHaveLength(20 * 6 * 1 * 3);
      expect(f.every((s) => Number.isFinite(s.value) && s.value >= 0 && (!PERCENT_METRICS.has(s.labels['metric'] as MetricName) || s.value <= 100))).toBe(true);
      // two days backfilled: of the week the model can read, the last two days are there
      const fleet = (await (await fetch(`${v2.address()}/api/v1/fleet`)).json()) as { instances: Array<{ history: { hours: number; modelHours: number } }> };
      expect(new Set(fleet.instances.map((i) => JSON.stringify(i.history)))).toEqual(new Set([JSON.stringify({ hours: 47, modelHours: 171 })]));
    } finally {
      await v2.stop();
    }
  });

  test('when Prometheus dies mid-run, then the sidecar stays up with the last forecasts, marks the source down, and recovers', async () => {
    const before = (await metrics(app)).samples.filter((s) => s.name === 'foresight_forecast').length;
    const source = async (): Promise<Record<string, unknown>> =>
      ((await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as { source: Record<string, unknown> }).source;
    const upBefore = await source();
    expect(upBefore).toMatchObject({ up: true, downSince: null, error: null });
    const stoppedAt = Date.now() / 1000;
    await prom.stop();
    await waitFor(
      'foresight_source_up 0',
      async () => ((await metrics(app)).samples.find((s) => s.name === 'foresight_source_up')?.value === 0 ? true : undefined),
      30_000,
      250,
    );
    // every server keeps its last good forecasts and risk, marked stale (not re-scored, not dropped)
    const staleCount = async (): Promise<number> => (await metrics(app)).samples.filter((s) => s.name === 'foresight_instance_stale' && s.value === 1).length;
    await waitFor('every server stale', async () => ((await staleCount()) === 20 ? true : undefined), 30_000, 250);
    // a Prometheus shutting down may first answer 503 (reason http_5xx); once its port is closed the
    // next cycle's failure is counted as network
    const sourceReasons = (m: Awaited<ReturnType<typeof metrics>>): string[] =>
      m.samples.filter((s) => s.name === 'foresight_errors_total' && s.labels['stage'] === 'source' && s.value > 0).map((e) => e.labels['reason']!);
    await waitFor('a network error counted', async () => (sourceReasons(await metrics(app)).includes('network') ? true : undefined), 30_000, 250);
    const down = await metrics(app);
    expect(down.samples.filter((s) => s.name === 'foresight_forecast')).toHaveLength(before);
    expect(down.text).not.toMatch(/\bNaN\b/);
    expect(sourceReasons(down)).toContain('network');
    expect((await fetch(`${app.address()}/-/healthy`)).status).toBe(200);
    // the fleet JSON names the source, since when it is down, the last success and why
    const s = await source();
    expect(s).toEqual({
      type: 'prometheus',
      url: prom.url.replace(/\/$/, ''),
      up: false,
      downSince: expect.any(Number) as number,
      lastSuccess: expect.any(Number) as number,
      error: expect.stringMatching(/ECONNREFUSED|socket hang up|ECONNRESET/) as string,
      clock: null,
    });
    // down since Prometheus was stopped, not before; the last success is not older than the one seen
    // while it was up (a cycle caught mid-shutdown may still publish, partly, after the first failed query)
    expect(s['downSince'] as number).toBeGreaterThanOrEqual(stoppedAt);
    expect(s['downSince'] as number).toBeLessThanOrEqual(Date.now() / 1000);
    expect(s['lastSuccess'] as number).toBeGreaterThanOrEqual(upBefore['lastSuccess'] as number);
    expect(down.text).toContain(`foresight_source_info{type="prometheus",url="${prom.url.replace(/\/$/, '')}"} 1\n`);

    prom = await startPrometheus({ blocksDir: h.blocksDir, port: promPort });
    await waitFor(
      'foresight_source_up 1',
      async () => ((await metrics(app)).samples.find((s) => s.name === 'foresight_source_up')?.value === 1 ? true : undefined),
      60_000,
      250,
    );
    expect(await source()).toMatchObject({ up: true, downSince: null, error: null });
    // and the next complete read makes every server fresh again
    await waitFor('no stale server', async () => ((await staleCount()) === 0 ? true : undefined), 60_000, 250);
  });
});
