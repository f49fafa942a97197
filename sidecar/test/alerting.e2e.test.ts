/**
 * The whole alert path on real processes: simulated history in a real Prometheus → sidecar
 * (shipped model, risk) → the same Prometheus scraping it and evaluating the provisioned rules →
 * real Alertmanager with the provisioned routes → a local webhook.
 *
 * The sidecar reads backfilled history on a driven clock (2 simulated minutes per real second),
 * so a healthy stretch, an incident, a critical phase and the recovery take ~3 real minutes.
 * The rules and routes are the provisioning files, loaded as they are except: `for:` shortened
 * to seconds (not ForesightCalibrationDrift's: live calibration needs hours of passed
 * horizons), Alertmanager's intervals shortened, and every receiver pointed at the webhook.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus, tempDir } from './harness/prometheus';
import type { PrometheusHandle, SimulatedHistory } from './harness/prometheus';
import { startAlertmanager } from './harness/alertmanager';
import type { AlertmanagerHandle } from './harness/alertmanager';
import { startWebhookReceiver } from './harness/webhook';
import type { WebhookReceiver } from './harness/webhook';
import { freePort, waitFor } from './harness/processes';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { stressedCount } from '../src/simulator/scenario';
import { parseDuration } from '@foresight/contract';

jest.setTimeout(420_000);

const REPO = path.join(__dirname, '..', '..');
const PROV = path.join(REPO, 'provisioning');
const HOUR = 3600;
const SIM_SECONDS_PER_REAL_SECOND = 120;
const SELF_MONITORING = [
  'ForesightSidecarDown',
  'ForesightForecastsStale',
  'ForesightSourceDown',
  'ForesightCalibrationDrift',
  'ForesightUnexpectedExecutionProvider',
];

interface Rule {
  alert?: string;
  for?: string;
}

async function testRules(dir: string): Promise<string> {
  const doc = parse(await readFile(path.join(PROV, 'prometheus', 'rules', 'foresight.rules.yml'), 'utf8')) as {
    groups: Array<{ interval?: string; rules: Rule[] }>;
  };
  for (const g of doc.groups) {
    delete g.interval;
    for (const r of g.rules) {
      if (!r.alert || r.alert === 'ForesightCalibrationDrift') continue;
      // severity alerts run on the sidecar's driven clock: their `for:` shrinks by the same factor
      // (degrading's 15m is 7.5 s here); self-monitoring runs on wall time, and gets a strict 3 s
      const sim = r.for ? parseDuration(r.for) : undefined;
      r.for = SELF_MONITORING.includes(r.alert) || sim === undefined ? '3s' : `${Math.max(1, Math.round(sim / SIM_SECONDS_PER_REAL_SECOND))}s`;
    }
  }
  const file = path.join(dir, 'foresight.rules.yml');
  await writeFile(file, stringify(doc));
  return file;
}

async function testAlertmanagerConfig(hookUrl: string): Promise<string> {
  const doc = parse(await readFile(path.join(PROV, 'alertmanager', 'alertmanager.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    route: { group_wait?: string; group_interval?: string; repeat_interval?: string; routes: Array<Record<string, unknown>> };
    receivers: Array<{ name: string }>;
  };
  const shorten = (r: Record<string, unknown>): void => {
    r['group_wait'] = '1s';
    r['group_interval'] = '2s';
    r['repeat_interval'] = '1h';
  };
  shorten(doc.route);
  doc.route.routes.forEach(shorten);
  doc.receivers = doc.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url: `${hookUrl}/${r.name}`, send_resolved: true }] }));
  return stringify(doc);
}

describeWith(['prometheus', 'promtool', 'alertmanager'])('predicted-risk alerts end to end', () => {
  let h: SimulatedHistory;
  let hook: WebhookReceiver;
  let am: AlertmanagerHandle;
  let prom: PrometheusHandle;
  let app: App;
  const clock = { t: 0 };
  /** real time (s) → sidecar clock */
  const simTimeAt = (real: number, real0: number, sim0: number): number => sim0 + (real - real0) * SIM_SECONDS_PER_REAL_SECOND;

  beforeAll(async () => {
    h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,44h:critical,44.75h:healthy',
      incidentSpecs: [{ instance: 'ppdb002', onsetOffset: 41 * HOUR, rampSeconds: 2 * HOUR }],
    });
    hook = await startWebhookReceiver();
    am = await startAlertmanager(await testAlertmanagerConfig(hook.url));
    const dir = await tempDir('e2e');
    const port = await freePort();
    prom = await startPrometheus({
      blocksDir: h.blocksDir,
      ruleFiles: [await testRules(dir)],
      alertmanager: am.hostPort,
      scrapeConfigs: [{ job_name: 'foresight', honor_labels: true, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    });
    const loaded = await parseConfig(
      { listen: `127.0.0.1:${port}`, source: { type: 'prometheus', interval: '24h', prometheus: { url: prom.url, timeout: '10s' } }, model: { device: 'cpu' } },
      'e2e config',
    );
    clock.t = h.start + 41 * HOUR + 40 * 60;
    app = createApp({ loaded, repoRoot: REPO, now: () => clock.t, log: () => undefined });
    await app.start();
  });
  afterAll(async () => {
    await app?.stop();
    await prom?.stop();
    await am?.stop();
    await hook?.stop();
    await removeTempDirs();
  });

  /** Advances the sidecar's clock with real time and runs cycles until `simOffset` hours into the history. */
  async function runUntil(simOffsetHours: number, real0: number, sim0: number): Promise<void> {
    const target = h.start + simOffsetHours * HOUR;
    while (clock.t < target) {
      await app.runCycle();
      await new Promise((r) => setTimeout(r, 250));
      clock.t = Math.min(target, simTimeAt(Date.now() / 1000, real0, sim0));
    }
  }

  test('when a fleet runs healthy, has an incident, goes critical and recovers, then alerts follow the prediction', async () => {
    const real0 = Date.now() / 1000;
    const sim0 = clock.t;
    const incident = h.incidents[0]!;
    const notifications = (): Array<{ at: number; receiver: string; status: string; labels: Record<string, string> }> =>
      hook.received.flatMap((r) => r.message.alerts.map((a) => ({ at: r.at, receiver: r.path.slice(1), status: a.status, labels: a.labels })));

    // healthy stretch with the incident ramping on ppdb002 (crossing at 43 h)
    await runUntil(44, real0, sim0);
    // the incident triggers the early-warning alert before its recorded threshold crossing:
    // ForesightBreachPredicted (p50 time to breach < 1 h) fires in Prometheus for ppdb002's disk
    // while the disk is still below critical (the published forecast continues the steady climb:
    // forecast/climb.ts). Its notification is a warning: the inhibition rules mute it while the
    // same server pages at danger or worse, which the risk engine's lead-time floor brings.
    const alertsRange = (await (
      await fetch(
        `${prom.url}/api/v1/query_range?${new URLSearchParams({ query: 'ALERTS{alertname="ForesightBreachPredicted",alertstate="firing"}', start: String(Math.floor(real0)), end: String(Math.ceil(Date.now() / 1000)), step: '1' }).toString()}`,
      )
    ).json()) as { data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
    const breach = alertsRange.data.result.filter((r) => r.metric['instance'] === 'ppdb002' && r.metric['metric'] === incident.metric);
    expect(breach.length).toBe(1);
    expect(simTimeAt(breach[0]!.values[0]![0], real0, sim0)).toBeLessThan(incident.crossing);
    // and no other server has a breach predicted while the fleet is healthy
    expect(alertsRange.data.result.filter((r) => r.metric['instance'] !== 'ppdb002').map((r) => r.metric)).toEqual([]);
    // and a severity page (warning or worse) for it arrives before the crossing too
    const early = notifications().filter(
      (n) =>
        n.labels['instance'] === 'ppdb002' &&
        n.status === 'firing' &&
        ['warning', 'danger', 'critical', 'imminent_failure'].includes(n.labels['severity'] ?? '') &&
        n.labels['alertname'] !== 'ForesightBreachPredicted',
    );
    expect(early.length).toBeGreaterThan(0);
    expect(simTimeAt(early[0]!.at, real0, sim0)).toBeLessThan(incident.crossing);
    const healthyPhase = notifications();
    // healthy: nothing above watch for anyone but the server with the incident (watch has no alert;
    // degrading and up notify)
    const aboveWatch = ['degrading', 'warning', 'danger', 'critical', 'imminent_failure'];
    expect(healthyPhase.filter((n) => n.labels['instance'] !== 'ppdb002' && n.status === 'firing' && aboveWatch.includes(n.labels['severity'] ?? ''))).toEqual(
      [],
    );

    // critical: half the fleet is driven to 90-100 % within 15 simulated minutes
    const stressed = new Set(h.sim.servers.filter((s) => s.stressRank < stressedCount('critical', 20)).map((s) => s.instance));
    const criticalStart = Date.now() / 1000;
    await runUntil(44.5, real0, sim0);
    const paged = await waitFor(
      'critical or imminent notifications',
      () => {
        const got = notifications().filter(
          (n) =>
            n.at >= criticalStart &&
            n.status === 'firing' &&
            (n.labels['severity'] === 'critical' || n.labels['severity'] === 'imminent_failure') &&
            n.labels['alertname'] !== 'ForesightBreachPredicted',
        );
        return Promise.resolve(new Set(got.map((n) => n.labels['instance'])).size >= 5 ? got : undefined);
      },
      60_000,
      500,
    );
    const pagedInstances = new Set(paged.map((n) => n.labels['instance']!));
    // only the forced servers (and the one with the incident) page
    expect([...pagedInstances].filter((i) => !stressed.has(i) && i !== 'ppdb002')).toEqual([]);
    // routed by severity: critical to on-call, imminent to escalation
    for (const n of paged) expect(n.receiver).toBe(n.labels['severity'] === 'critical' ? 'pager-oncall' : 'pager-escalation');
    // grouped: one webhook call carries several alerts
    expect(hook.received.some((r) => r.message.alerts.length > 1)).toBe(true);

    // recovery: back to healthy, resolved notifications arrive
    await runUntil(45.5, real0, sim0);
    await waitFor(
      'resolved notifications',
      () => {
        const resolved = notifications().filter((n) => n.status === 'resolved' && pagedInstances.has(n.labels['instance']!));
        return Promise.resolve(resolved.length > 0 ? resolved : undefined);
      },
      90_000,
      500,
    );

    // self-monitoring stayed quiet the whole run
    expect(notifications().filter((n) => SELF_MONITORING.includes(n.labels['alertname']!))).toEqual([]);
  });
});
