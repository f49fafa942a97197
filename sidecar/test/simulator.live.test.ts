/**
 * The live simulator over HTTP: its /metrics passes promtool, scenarios and incidents are
 * switched at run time, bad requests get clear errors, and a real Prometheus sees a switch
 * within a minute.
 */
import { spawnSync } from 'node:child_process';
import { BINARIES, describeWith } from './harness/integration';
import { removeTempDirs, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle } from './harness/prometheus';
import { waitFor } from './harness/processes';
import { createSimulatorApp } from '../src/simulator/app';
import type { AppHandle } from '../src/simulator/app';
import { Simulation } from '../src/simulator/simulation';
import { DEFAULT_FLEET } from '../src/simulator/fleet';
import { stressedCount } from '../src/simulator/scenario';
import { METRICS } from '../src/source/promql';

jest.setTimeout(120_000);

async function post(url: string, body: string, type = 'application/json'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, body: await res.json() };
}

describe('live simulator HTTP API', () => {
  let app: AppHandle;
  let sim: Simulation;
  beforeEach(async () => {
    sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    app = createSimulatorApp({ sim, host: '127.0.0.1', port: 0 });
    await app.start();
  });
  afterEach(() => app.stop());

  test('when an unknown scenario is posted, then it answers 400 naming the value and keeps the old one', async () => {
    const res = await post(`${app.address()}/scenario`, '{"scenario":"meltdown"}');
    expect(res).toEqual({ status: 400, body: { error: 'unknown scenario "meltdown" (expected one of: healthy, busy, degrading, critical)' } });
    expect(await (await fetch(`${app.address()}/scenario`)).json()).toMatchObject({ scenario: 'healthy', since: null });
  });

  test('when a scenario is posted as JSON or plain text, then it is in force', async () => {
    expect(await post(`${app.address()}/scenario`, '{"scenario":"critical"}')).toMatchObject({ status: 200, body: { scenario: 'critical' } });
    expect(await post(`${app.address()}/scenario`, 'degrading', 'text/plain')).toMatchObject({ status: 200, body: { scenario: 'degrading' } });
    const metrics = await (await fetch(`${app.address()}/metrics`)).text();
    expect(metrics).toContain('foresight_simulator_scenario{scenario="degrading"} 1\n');
  });

  test('when an incident is posted, then it is recorded with its crossing time and exposed', async () => {
    const res = await post(`${app.address()}/incidents`, '{"instance":"ppdb002","rampMinutes":30}');
    expect(res.status).toBe(201);
    const inc = res.body as { id: string; crossing: number; onset: number; kind: string };
    expect(inc).toMatchObject({ id: 'inc-1', kind: 'disk_fill' });
    expect(inc.crossing - inc.onset).toBeCloseTo(1800, 6);
    const metrics = await (await fetch(`${app.address()}/metrics`)).text();
    expect(metrics).toContain(
      `foresight_simulator_incident_crossing_timestamp_seconds{instance="ppdb002",incident="inc-1",kind="disk_fill",metric="disk"} ${inc.crossing}\n`,
    );
    expect(await (await fetch(`${app.address()}/incidents`)).json()).toHaveLength(1);
  });

  test.each([
    ['{"instance":"nope"}', 'unknown instance "nope"'],
    ['{"instance":"ppml0001","kind":"fire"}', 'unknown incident kind "fire" (expected one of: memory_leak, disk_fill)'],
    ['{"instance":"ppml0001","rampMinutes":"soon"}', '"rampMinutes" must be a number (got "soon")'],
    ['not json', 'request body is not JSON: not json'],
  ])('when the incident request is %s, then it answers 400: %s', async (body, error) => {
    expect(await post(`${app.address()}/incidents`, body)).toEqual({ status: 400, body: { error } });
  });
});

describeWith(['promtool'])('simulator exposition', () => {
  // node_exporter's meminfo names (node_memory_MemTotal_bytes, …) are camelCase, and real
  // node_exporter's /metrics gets the same three lint findings from promtool. The simulator must
  // use those names (so the same PromQL works on both), so these findings — and only these — are expected.
  const NODE_EXPORTER_OWN_LINT =
    "node_memory_MemAvailable_bytes metric names should be written in 'snake_case' not 'camelCase'\n" +
    "node_memory_MemFree_bytes metric names should be written in 'snake_case' not 'camelCase'\n" +
    "node_memory_MemTotal_bytes metric names should be written in 'snake_case' not 'camelCase'\n";

  test("when /metrics is checked by promtool, then it parses and the only lint findings are node_exporter's own names", async () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'critical' });
    const app = createSimulatorApp({ sim, host: '127.0.0.1', port: 0 });
    await app.start();
    try {
      await post(`${app.address()}/incidents`, '{"instance":"ppml0002"}');
      const text = await (await fetch(`${app.address()}/metrics`)).text();
      const r = spawnSync(BINARIES.promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // exit 3 = lint findings only; 1 would be a parse error
      expect({ status: r.status, output: r.stdout + r.stderr }).toEqual({ status: 3, output: NODE_EXPORTER_OWN_LINT });
      // everything that is Foresight's own passes cleanly
      const own =
        text
          .split('\n')
          .filter((l) => l.includes('foresight_'))
          .join('\n') + '\n';
      const r2 = spawnSync(BINARIES.promtool, ['check', 'metrics'], { input: own, encoding: 'utf8' });
      expect({ status: r2.status, output: r2.stdout + r2.stderr }).toEqual({ status: 0, output: '' });
    } finally {
      await app.stop();
    }
  });
});

describeWith(['prometheus'])('live simulator scraped by a real Prometheus', () => {
  let app: AppHandle;
  let prom: PrometheusHandle;
  let sim: Simulation;
  beforeAll(async () => {
    sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    app = createSimulatorApp({ sim, host: '127.0.0.1', port: 0 });
    await app.start();
    prom = await startPrometheus({
      scrapeConfigs: [{ job_name: 'simulator', honor_labels: true, static_configs: [{ targets: [app.address().replace('http://', '')] }] }],
    });
  });
  afterAll(async () => {
    await prom?.stop();
    await app?.stop();
    await removeTempDirs();
  });

  test('when the scenario is switched to critical, then Prometheus shows it within a minute of simulated time', async () => {
    await waitFor('a first scrape', async () => ((await prom.query('foresight_simulator_scenario{scenario="healthy"} == 1')).length ? true : undefined));
    const stressed = sim.servers.filter((s) => s.stressRank < stressedCount('critical', 20) && s.profile === 'ml_compute');
    const selector = `instance=~"${stressed.map((s) => s.instance).join('|')}"`;
    const memory = `(${METRICS.memory.expr}) and on(instance) node_load1{${selector}}`;
    const before = new Map((await prom.query(memory)).map((s) => [s.metric['instance'], Number(s.value[1])]));
    expect(before.size).toBe(stressed.length);

    const switchedAt = Date.now() / 1000;
    expect((await post(`${app.address()}/scenario`, '{"scenario":"critical"}')).status).toBe(200);

    // the first scraped sample where every stressed ml_compute server's memory has clearly risen
    const seenAt = await waitFor(
      'memory to rise on the stressed servers',
      async () => {
        const now = Date.now() / 1000;
        const ranges = await prom.queryRange(memory, switchedAt, now, 1);
        const firstRise = ranges.map((s) => s.values.find(([, v]) => Number(v) - before.get(s.metric['instance'])! > 1.5)?.[0]);
        return firstRise.length === stressed.length && firstRise.every((t) => t !== undefined) ? Math.max(...firstRise.map(Number)) : undefined;
      },
      90_000,
      1000,
    );
    expect(seenAt - switchedAt).toBeLessThanOrEqual(60);
    const [scenario] = await prom.query('foresight_simulator_scenario{scenario="critical"}');
    expect(scenario?.value[1]).toBe('1');
  });
});
