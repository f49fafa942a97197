/**
 * The cardinality budget: what one server costs on /metrics. A live sidecar on the simulated
 * fleet publishes at most 60 series per server by default — what the shipped rules, dashboards
 * and panel read — each exporter key costs what the configuration reference says, and
 * `exporter.full`, turned on by a reload, brings back every horizon × percentile and every
 * driver (162 series per server plus one per driver).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { freePort } from './harness/processes';
import { parseExposition } from './harness/exposition';
import type { Sample } from './harness/exposition';
import { loadConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { ALL_SERIES, SERIES } from '../src/exporter/metrics';

jest.setTimeout(180_000);

const REPO = path.join(__dirname, '..', '..');
const HORIZONS = ['30m', '1h', '2h', '3h', '4h', '6h', '8h'];
const METRICS = ['cpu', 'disk', 'iowait', 'load', 'memory', 'network'];
/** The budget for the default: at most 60 series per server (it costs at most 51, counted exactly below). */
const BUDGET = 60;

/** Series that carry a server's instance label (the self-monitoring ones do not). */
const PER_SERVER = new Set(ALL_SERIES.filter((d) => d.labels.includes('instance')).map((d) => d.name));

interface FleetInstance {
  readonly instance: string;
  readonly ready: boolean;
  readonly state: string;
  readonly drivers?: Record<string, number>;
}

interface Scrape {
  readonly samples: Sample[];
  readonly fleet: FleetInstance[];
}

async function scrape(app: App): Promise<Scrape> {
  const samples = parseExposition(await (await fetch(`${app.address()}/metrics`)).text());
  const fleet = ((await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as { instances: FleetInstance[] }).instances;
  return { samples, fleet };
}

/** Distinct series (name and labels) per instance. */
function seriesPerServer(samples: readonly Sample[]): Map<string, Sample[]> {
  const out = new Map<string, Map<string, Sample>>();
  for (const s of samples) {
    const instance = s.labels['instance'];
    if (instance === undefined) continue;
    const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
    const m = out.get(instance) ?? new Map<string, Sample>();
    m.set(key, s);
    out.set(instance, m);
  }
  return new Map([...out].map(([i, m]) => [i, [...m.values()]]));
}

/** How many series of each name one server has. */
function composition(series: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of series) out[s.name] = (out[s.name] ?? 0) + 1;
  return out;
}

const values = (series: readonly Sample[], name: string, label: string): string[] =>
  [...new Set(series.filter((s) => s.name === name).map((s) => s.labels[label]!))].sort();

/** The drivers of a server from the fleet JSON (every one), largest first. */
const driversOf = (i: FleetInstance): string[] =>
  Object.entries(i.drivers ?? {})
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([d]) => d);

/**
 * Every per-server selector the shipped rules and dashboards (the panel's queries included)
 * use: `name{label op "value", …}`, with the instance matcher (a template: `$instance`, `%q`)
 * left out, since any server will do.
 */
function shippedSelectors(): Array<{ where: string; name: string; matchers: Array<{ label: string; op: string; value: string }> }> {
  const texts: Array<{ where: string; text: string }> = [];
  const rules = parse(readFileSync(path.join(REPO, 'provisioning', 'prometheus', 'rules', 'foresight.rules.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string; annotations?: Record<string, string> }> }>;
  };
  for (const g of rules.groups)
    for (const r of g.rules) texts.push({ where: `rule ${r.alert ?? r.record}`, text: [r.expr, ...Object.values(r.annotations ?? {})].join('\n') });
  const dir = path.join(REPO, 'provisioning', 'grafana', 'dashboards');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr?: string }> }> };
    for (const p of d.panels) for (const t of p.targets ?? []) if (t.expr) texts.push({ where: `${f}: ${p.title}`, text: t.expr });
  }
  const out: ReturnType<typeof shippedSelectors> = [];
  for (const { where, text } of texts) {
    for (const m of text.replace(/\\"/g, '"').matchAll(/\b(foresight_[a-z_]+)(?:\{([^}]*)\})?/g)) {
      if (!PER_SERVER.has(m[1]!)) continue;
      const matchers = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)]
        .map((x) => ({ label: x[1]!, op: x[2]!, value: x[3]! }))
        .filter((x) => x.label !== 'instance');
      out.push({ where, name: m[1]!, matchers });
    }
  }
  return out;
}

function selects(s: Sample, matchers: ReadonlyArray<{ label: string; op: string; value: string }>): boolean {
  return matchers.every(({ label, op, value }) => {
    const v = s.labels[label] ?? '';
    const re = new RegExp(`^(?:${value})$`);
    return op === '=' ? v === value : op === '!=' ? v !== value : op === '=~' ? re.test(v) : !re.test(v);
  });
}

describe('series per server on /metrics (the cardinality budget)', () => {
  let dir: string;
  let file: string;
  let app: App;
  let port: number;
  let atDefault: Scrape;
  const config = (extra: string): string => `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\n${extra}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'foresight-cardinality-'));
    file = path.join(dir, 'foresight.yml');
    port = await freePort();
    await writeFile(file, config(''));
    // a frozen clock: a cycle that runs between two reads reproduces the same results
    const at = Math.floor(Date.now() / 1000 / 300) * 300;
    app = createApp({ loaded: await loadConfig(file, {}), configFile: file, repoRoot: REPO, now: () => at, log: () => undefined, env: {} });
    await app.start();
    atDefault = await scrape(app);
  });
  afterAll(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('when the fleet is scored, then every server is ready and fresh, and most have several drivers (so a cut of drivers shows)', () => {
    expect(atDefault.fleet).toHaveLength(20);
    expect(atDefault.fleet.filter((i) => !i.ready || i.state !== 'fresh')).toEqual([]);
    expect(atDefault.fleet.filter((i) => driversOf(i).length >= 3).length).toBeGreaterThan(10);
  });

  test('when the config says nothing about the exporter, then each server costs at most 60 series: state, values, risk, predicted risk at every horizon, its 3 largest drivers, time to breach at p50 and p90, and the forecast at 8h', () => {
    const perServer = seriesPerServer(atDefault.samples);
    expect([...perServer.keys()].sort()).toEqual(atDefault.fleet.map((i) => i.instance).sort());
    for (const i of atDefault.fleet) {
      const series = perServer.get(i.instance)!;
      const drivers = Math.min(3, driversOf(i).length);
      expect({ instance: i.instance, within: series.length <= BUDGET }).toEqual({ instance: i.instance, within: true });
      expect({ instance: i.instance, series: composition(series) }).toEqual({
        instance: i.instance,
        series: {
          [SERIES.instanceReady.name]: 1,
          [SERIES.instanceStale.name]: 1,
          [SERIES.instanceUnknown.name]: 1,
          [SERIES.metricValue.name]: 6,
          [SERIES.riskScore.name]: 1,
          [SERIES.severityLevel.name]: 1,
          [SERIES.predictedRiskScore.name]: 7,
          ...(drivers > 0 ? { [SERIES.riskDriver.name]: drivers } : {}),
          [SERIES.timeToBreach.name]: 12,
          [SERIES.forecast.name]: 18,
        },
      });
      expect(series.length).toBe(48 + drivers);
      // the largest ones, as the alerts' "top driver" and the panel's tooltip read them
      expect(values(series, SERIES.riskDriver.name, 'driver')).toEqual(driversOf(i).slice(0, 3).sort());
      expect(values(series, SERIES.predictedRiskScore.name, 'horizon')).toEqual([...HORIZONS].sort());
      expect(values(series, SERIES.timeToBreach.name, 'percentile')).toEqual(['50', '90']);
      // the cones: p10–p90 band and p50 of every metric at the longest horizon
      expect(values(series, SERIES.forecast.name, 'horizon')).toEqual(['8h']);
      expect(values(series, SERIES.forecast.name, 'percentile')).toEqual(['10', '50', '90']);
      expect(values(series, SERIES.forecast.name, 'metric')).toEqual(METRICS);
    }
  });

  test("when the shipped rules and dashboards (the panel's queries included) select per-server series, then each selector matches series published by default", () => {
    const selectors = shippedSelectors();
    // the rules' p50 time to breach, the dashboards' cones and drivers, ...
    expect(selectors.length).toBeGreaterThan(30);
    expect(new Set(selectors.map((s) => s.name))).toEqual(PER_SERVER);
    const one = atDefault.fleet[0]!.instance;
    const published = atDefault.samples.filter((s) => s.labels['instance'] === one);
    const unmatched = selectors.filter((sel) => !published.some((s) => s.name === sel.name && selects(s, sel.matchers)));
    expect(unmatched).toEqual([]);
  });

  test('when each exporter key is set (by a reload), then each costs what the reference says: 18 series per forecast horizon, 6 per time-to-breach percentile, 1 per driver', async () => {
    await writeFile(file, config('exporter:\n  forecast_horizons: [1h, 8h]\n  time_to_breach_percentiles: [50]\n  drivers: 1\n'));
    const res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
    const set = await scrape(app);
    const perServer = seriesPerServer(set.samples);
    for (const i of set.fleet) {
      const series = perServer.get(i.instance)!;
      const drivers = Math.min(1, driversOf(i).length);
      expect({ instance: i.instance, series: series.length }).toEqual({ instance: i.instance, series: 18 + drivers + 2 * 18 + 6 });
      expect(values(series, SERIES.forecast.name, 'horizon')).toEqual(['1h', '8h']);
      expect(values(series, SERIES.timeToBreach.name, 'percentile')).toEqual(['50']);
      // the top driver: the one the fleet JSON names
      expect(values(series, SERIES.riskDriver.name, 'driver')).toEqual(driversOf(i).slice(0, 1));
    }
  });

  test('when exporter.full is turned on by a reload, then every horizon × percentile and every driver come back: 162 series per server plus one per driver', async () => {
    await writeFile(file, config('exporter:\n  full: true\n'));
    const res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
    const full = await scrape(app);
    const perServer = seriesPerServer(full.samples);
    for (const i of full.fleet) {
      const series = perServer.get(i.instance)!;
      const drivers = driversOf(i).length;
      expect({ instance: i.instance, series: series.length }).toEqual({ instance: i.instance, series: 162 + drivers });
      expect(composition(series)[SERIES.forecast.name]).toBe(6 * 7 * 3);
      expect(composition(series)[SERIES.timeToBreach.name]).toBe(6 * 3);
      expect(values(series, SERIES.riskDriver.name, 'driver')).toEqual([...driversOf(i)].sort());
      expect(values(series, SERIES.forecast.name, 'horizon')).toEqual([...HORIZONS].sort());
    }
    expect(Math.max(...full.fleet.map((i) => perServer.get(i.instance)!.length))).toBeGreaterThan(BUDGET + 100);
  });
});
