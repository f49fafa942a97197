/**
 * The simulator through a real Prometheus: backfilled history queried with the default PromQL
 * expressions, and a live simulator that continues that history without a counter reset.
 */
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle, SimulatedHistory, PromSeries } from './harness/prometheus';
import { METRICS } from '../src/source/promql';
import { METRIC_NAMES, PERCENT_METRICS } from '../src/profiles/profiles';
import type { MetricName } from '../src/profiles/profiles';
import { stressedCount } from '../src/simulator/scenario';
import { createSimulatorApp } from '../src/simulator/app';
import type { AppHandle } from '../src/simulator/app';
import { lastCounters } from '../src/simulator/continuation';
import { freePort, waitFor } from './harness/processes';

jest.setTimeout(180_000);

const HOUR = 3600;
// Two days ending on the hour before now: healthy for 40 h, critical for the last 8 h,
// incidents only in the healthy part (so a critical-scenario stress cannot cross first).
const HISTORY = {
  days: 2,
  end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
  schedule: 'healthy,40h:critical',
  incidents: 4,
  incidentsWindow: [3 * HOUR, 34 * HOUR] as const,
};
const STEP = 300;

describeWith(['prometheus', 'promtool'])('simulated history in a real Prometheus', () => {
  let h: SimulatedHistory;
  let prom: PrometheusHandle;
  const series = new Map<MetricName, PromSeries[]>();

  beforeAll(async () => {
    h = await simulatedHistory(HISTORY);
    prom = await startPrometheus({ blocksDir: h.blocksDir });
    for (const m of METRIC_NAMES) {
      series.set(m, await prom.queryRange(METRICS[m].expr, h.start + 600, h.end - STEP, STEP));
    }
  });
  afterAll(async () => {
    await prom?.stop();
    await removeTempDirs();
  });

  test('when two days are backfilled, then every default expression gives 20 instances with no gaps and values in range', () => {
    const expectedPoints = Math.floor((h.end - STEP - (h.start + 600)) / STEP) + 1;
    for (const m of METRIC_NAMES) {
      const result = series.get(m)!;
      expect({ m, instances: result.map((s) => s.metric['instance']).sort() }).toEqual({
        m,
        instances: h.sim.servers.map((s) => s.instance).sort(),
      });
      for (const s of result) {
        // one label only: the sidecar aligns metrics by instance
        expect(Object.keys(s.metric)).toEqual(['instance']);
        expect({ m, instance: s.metric['instance'], points: s.values.length }).toEqual({ m, instance: s.metric['instance'], points: expectedPoints });
        for (const [, v] of s.values) {
          const x = Number(v);
          expect(Number.isFinite(x)).toBe(true);
          expect(x).toBeGreaterThanOrEqual(0);
          if (PERCENT_METRICS.has(m)) expect(x).toBeLessThanOrEqual(100);
        }
      }
    }
  });

  function inIncident(instance: string, t: number): boolean {
    return h.incidents.some((i) => i.instance === instance && t >= i.onset && t <= i.end + 600);
  }

  test('when the fleet is healthy, then every ml_compute and web_api server stays under 50 % CPU and memory', () => {
    const switchAt = h.start + 40 * HOUR;
    let checked = 0;
    for (const m of ['cpu', 'memory'] as const) {
      for (const s of series.get(m)!) {
        const profile = h.sim.server(s.metric['instance']!)!.profile;
        if (profile !== 'ml_compute' && profile !== 'web_api') continue;
        for (const [t, v] of s.values) {
          if (t >= switchAt || inIncident(s.metric['instance']!, t)) continue;
          checked++;
          if (Number(v) >= 50) throw new Error(`${s.metric['instance']} ${m} ${v} at ${new Date(t * 1000).toISOString()}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(13 * 2 * 400);
  });

  test('when the fleet has been critical for an hour, then at least 9 of 20 servers are at ≥ 90 % on some metric', async () => {
    const t = h.start + 41 * HOUR;
    const hot = new Set<string>();
    for (const m of ['cpu', 'memory', 'disk', 'iowait'] as const) {
      for (const s of await prom.query(`${METRICS[m].expr} >= 90`, t)) hot.add(s.metric['instance']!);
    }
    // database memory sits near 100 % (page cache) on every day; it must not be what makes the count
    const byStress = [...hot].filter((i) => h.sim.server(i)!.stressRank < stressedCount('critical', 20));
    expect(byStress.length).toBeGreaterThanOrEqual(9);
  });

  test('when incidents were injected, then each crosses its threshold at the recorded time (±1 step)', async () => {
    expect(h.incidents).toHaveLength(4);
    for (const inc of h.incidents) {
      // select one instance of an aggregated expression by matching it against a raw series
      const q = `(${METRICS[inc.metric].expr}) and on(instance) (node_load1{instance="${inc.instance}"})`;
      const [s] = await prom.queryRange(q, inc.onset, inc.crossing + 600, h.step);
      expect(s).toBeDefined();
      const first = s!.values.find(([, v]) => Number(v) >= inc.threshold);
      if (!first) throw new Error(`${inc.id} on ${inc.instance} never reached ${inc.threshold}`);
      expect({ id: inc.id, offBy: Math.abs(first[0] - inc.crossing) <= h.step }).toEqual({ id: inc.id, offBy: true });
    }
    // and the records are in Prometheus too, with the crossing time as the value
    const recorded = await prom.query('foresight_simulator_incident_crossing_timestamp_seconds', h.incidents[0]!.crossing);
    expect(recorded.map((r) => Number(r.value[1]))).toContain(h.incidents[0]!.crossing);
  });
});

describeWith(['prometheus', 'promtool'])('a live simulator continuing a backfilled history (the compose stack)', () => {
  let h: SimulatedHistory;
  let prom: PrometheusHandle;
  let live: AppHandle | undefined;
  afterAll(async () => {
    await live?.stop();
    await prom?.stop();
    await removeTempDirs();
  });

  test('when it starts with --continue-from the Prometheus holding the history, then no counter resets where the history ends', async () => {
    // written as `foresight simulate history` does: job="simulator" on every sample, so the
    // live scrape (job simulator) continues the same series
    h = await simulatedHistory({ ...HISTORY, job: 'simulator' });
    const port = await freePort();
    prom = await startPrometheus({
      blocksDir: h.blocksDir,
      scrapeConfigs: [{ job_name: 'simulator', honor_labels: true, scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    });
    // the live fleet is the history's fleet, in the scenario the history ended in
    const continueFrom = await lastCounters(prom.url, h.sim.servers);
    expect(continueFrom.size).toBe(20);
    live = createSimulatorApp({ sim: h.sim, host: '127.0.0.1', port, continueFrom });
    await live.start();
    const counters = ['node_cpu_seconds_total', 'node_network_receive_bytes_total', 'node_network_transmit_bytes_total'];
    // a few live scrapes after the backfilled samples
    await waitFor(
      'live scrapes',
      async () => ((await prom.query(`count_over_time(node_load1{instance="ppweb001"}[30s])`)).some((r) => Number(r.value[1]) >= 3) ? true : undefined),
      60_000,
      500,
    );
    for (const m of counters) {
      // over the last 3 h: the backfill's last hours and the live samples after them
      const resets = await prom.query(`sum(resets(${m}[3h]))`);
      const series = await prom.query(`count(count_over_time(${m}[3h]))`);
      expect({ m, resets: Number(resets[0]?.value[1]), series: Number(series[0]?.value[1]) > 0 }).toEqual({ m, resets: 0, series: true });
    }
  });
});
