/**
 * Sharding against a real Prometheus: two sidecar replicas configured `sharding {total: 2,
 * index: 0}` and `{total: 2, index: 1}` read the same backfilled fleet, and between them every
 * server is forecast by exactly one replica — in each replica's own answers and in what a
 * Prometheus scraping both of them stores.
 */
import http from 'node:http';
import path from 'node:path';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle, SimulatedHistory } from './harness/prometheus';
import { freePort, waitFor } from './harness/processes';
import { parseExposition } from './harness/exposition';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { instanceHash } from '../src/source/sharding';

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const HOUR = 3600;
const REPLICAS = 2;

interface FleetJson {
  readonly instances: ReadonlyArray<{ readonly instance: string; readonly ready: boolean }>;
}

/** Instances in a replica's /api/v1/fleet, and those it publishes forecasts and readiness for on /metrics. */
async function published(app: App): Promise<{ fleet: string[]; forecast: string[]; ready: string[] }> {
  const fleet = ((await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as FleetJson).instances.map((i) => i.instance);
  const samples = parseExposition(await (await fetch(`${app.address()}/metrics`)).text());
  const instancesOf = (name: string): string[] => [...new Set(samples.filter((s) => s.name === name).map((s) => s.labels['instance']!))];
  return { fleet, forecast: instancesOf('foresight_forecast'), ready: instancesOf('foresight_instance_ready') };
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** GET /metrics as Prometheus does (or without Accept-Encoding): the Content-Encoding and the decoded body. */
function getMetrics(app: App, gzip: boolean): Promise<{ encoding: string | undefined; body: string; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${app.address()}/metrics`, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        resolve({ encoding, body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'), raw });
      });
    });
    req.on('error', reject);
  });
}

describeWith(['prometheus', 'promtool'])('two sharded replicas against one real Prometheus', () => {
  let h: SimulatedHistory;
  let prom: PrometheusHandle;
  const apps: App[] = [];
  let fleet: string[];

  beforeAll(async () => {
    // the same cached two days the other Prometheus tests use, ending on the hour before now
    h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,40h:critical',
      incidents: 4,
      incidentsWindow: [3 * HOUR, 34 * HOUR],
    });
    fleet = sorted(h.sim.servers.map((s) => s.instance));
    const ports = await Promise.all(Array.from({ length: REPLICAS }, () => freePort()));
    // each replica is a target of its own, labelled with its index, so Prometheus tells them apart
    prom = await startPrometheus({
      blocksDir: h.blocksDir,
      scrapeConfigs: [
        {
          job_name: 'foresight',
          honor_labels: true,
          scrape_interval: '1s',
          static_configs: ports.map((port, index) => ({ targets: [`127.0.0.1:${port}`], labels: { replica: String(index) } })),
        },
      ],
    });
    for (const [index, port] of ports.entries()) {
      const loaded = await parseConfig(
        {
          listen: `127.0.0.1:${port}`,
          source: { type: 'prometheus', interval: '1h', prometheus: { url: prom.url, timeout: '30s', retries: 0 } },
          model: { path: path.join(REPO, 'models', 'foresight-tft'), device: 'cpu', workers: 1 },
          sharding: { total: REPLICAS, index },
        },
        `replica ${index}`,
      );
      const app = createApp({ loaded, repoRoot: REPO, now: () => h.end - h.step, log: () => undefined });
      apps.push(app);
      // start() runs the first cycle: each replica has forecast its share before the tests
      await app.start();
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await prom?.stop();
    await removeTempDirs();
  });

  test('when both replicas have run a cycle, then each server is forecast by exactly one of them and none is left out', async () => {
    const [a, b] = await Promise.all(apps.map(published));
    for (const p of [a!, b!]) {
      // a replica's fleet, forecasts and readiness name the same servers
      expect(sorted(p.forecast)).toEqual(sorted(p.fleet));
      expect(sorted(p.ready)).toEqual(sorted(p.fleet));
      // both replicas do a share of the work
      expect(p.fleet.length).toBeGreaterThan(0);
      expect(p.fleet.length).toBeLessThan(fleet.length);
    }
    const both = a!.fleet.filter((i) => b!.fleet.includes(i));
    expect(both).toEqual([]);
    expect(sorted([...a!.fleet, ...b!.fleet])).toEqual(fleet);
  });

  test('when replicas shard by index, then replica i takes the servers whose FNV-1a hash of instance mod 2 is i, as documented', async () => {
    const shares = await Promise.all(apps.map(async (app) => sorted((await published(app)).fleet)));
    for (const [index, share] of shares.entries()) {
      expect(share).toEqual(fleet.filter((i) => instanceHash(i) % REPLICAS === index));
    }
  });

  test("when one Prometheus scrapes both replicas, then it stores every server's forecasts from exactly one replica", async () => {
    // how many replicas publish readiness for each server, as Prometheus has them
    const perInstance = await waitFor(
      'both replicas scraped',
      async () => {
        const r = await prom.query('count by (instance) (foresight_instance_ready)');
        const scrapedBoth = await prom.query('count by (replica) (foresight_instance_ready)');
        return r.length === fleet.length && scrapedBoth.length === REPLICAS ? r : undefined;
      },
      60_000,
      500,
    );
    expect(sorted(perInstance.map((r) => r.metric['instance']!))).toEqual(fleet);
    expect(perInstance.filter((r) => r.value[1] !== '1')).toEqual([]);
    // the forecasts themselves: one replica per server (its three percentiles at the longest horizon, by default)
    const forecasts = await prom.query('count by (instance) (count by (instance, replica) (foresight_forecast{metric="cpu"}))');
    expect(forecasts).toHaveLength(fleet.length);
    expect(forecasts.filter((r) => r.value[1] !== '1')).toEqual([]);
  });

  test("when Prometheus asks for gzip, then /metrics is gzip-encoded, decodes to the plain body's forecasts, and Prometheus scrapes it in full", async () => {
    const app = apps[0]!;
    // the forecasts are encoded once per cycle, just after it: wait for the encoded copy
    const zipped = await waitFor(
      'a gzip-encoded /metrics',
      async () => {
        const r = await getMetrics(app, true);
        return r.encoding === 'gzip' ? r : undefined;
      },
      30_000,
      200,
    );
    // once the encoded copy is ready the rendered text is released: a plain scrape is decoded from that copy
    const plain = await getMetrics(app, false);
    expect(plain.encoding).toBeUndefined();
    const forecasts = (text: string): string[] =>
      sorted(
        parseExposition(text)
          .filter((x) => x.name === 'foresight_forecast')
          .map((x) => `${JSON.stringify(x.labels)} ${x.value}`),
      );
    const fromPlain = forecasts(plain.body);
    expect(fromPlain.length).toBeGreaterThan(0);
    expect(forecasts(zipped.body)).toEqual(fromPlain);
    // one gzip stream, not several members back to back (curl --compressed and others read only the
    // first member): the trailer's CRC-32 and length are those of the whole decoded body
    const whole = Buffer.from(zipped.body);
    expect([zipped.raw.readUInt32LE(zipped.raw.length - 8), zipped.raw.readUInt32LE(zipped.raw.length - 4)]).toEqual([crc32(whole) >>> 0, whole.length]);
    expect(inflateRawSync(zipped.raw.subarray(10, -8)).toString('utf8')).toBe(zipped.body);
    // Prometheus always sends Accept-Encoding: gzip; its scrape of replica 0 is up and holds every sample
    const scraped = await waitFor(
      'a scrape of replica 0',
      async () => {
        const r = await prom.query('scrape_samples_scraped{job="foresight",replica="0"} and on (replica) up{job="foresight"} == 1');
        return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
      },
      60_000,
      500,
    );
    expect(scraped).toBe(parseExposition(plain.body).length);
  });
});
