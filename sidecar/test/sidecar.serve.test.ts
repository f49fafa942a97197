/**
 * `foresight serve` as users run it (the built CLI): the embedded default, broken configs and
 * devices at start, reloads that keep the old config and model, and sharding.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './harness/processes';
import { parseExposition } from './harness/exposition';
import { logEntries, logMessages } from './harness/log';
import { loadConfig, parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import { inShard } from '../src/source/sharding';
import { cudaProviderLibrary } from '../src/forecast/session';
import { buildFleet, scaleFleet } from '../src/simulator/fleet';

jest.setTimeout(120_000);

const REPO = path.join(__dirname, '..', '..');
const MAIN = path.join(__dirname, '..', 'dist', 'main.js');

function serve(args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [MAIN, 'serve', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

describe('foresight serve', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(path.join(tmpdir(), 'foresight-serve-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('when the config is broken at start, then it exits 2 naming the key', async () => {
    const file = path.join(dir, 'broken.yml');
    await writeFile(file, 'source:\n  type: prometheus\n  prometheus:\n    url: http://x:9090\nforecast:\n  horizons: [30m, 7m]\n');
    const r = serve(['--config', file]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 2,
      stderr: `foresight: ${file}: forecast.horizons[1]: must be a multiple of source.step (got 7m, step 5m)\n`,
    });
  });

  test("when a percentile is not one the model produces, then it exits 2 naming the key and the model's quantiles", async () => {
    const file = path.join(dir, 'percentile.yml');
    await writeFile(file, 'source:\n  type: simulator\nforecast:\n  percentiles: [10, 50, 99]\n');
    const r = serve(['--config', file]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 2,
      stderr: `foresight: ${file}: forecast.percentiles[2]: 99 is not a quantile the model produces (5, 10, 25, 50, 75, 90, 95)\n`,
    });
  });

  test('when device is cuda on a machine without CUDA, then it fails at start with a clear message', async () => {
    const file = path.join(dir, 'cuda.yml');
    await writeFile(file, 'source:\n  type: simulator\nmodel:\n  device: cuda\n');
    const r = serve(['--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^foresight: device: cuda requested but the CUDA execution provider could not be created: .+\n$/);
    // where the provider libraries are missing (CI, development machines), it names the file and how to install it
    if (!existsSync(cudaProviderLibrary())) {
      expect(r.stderr).toContain(
        `the CUDA provider libraries are not installed (${cudaProviderLibrary()} is missing; install with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false, see README "GPU")`,
      );
    }
  });

  test('when it starts with no config, then the embedded default serves forecasts for the simulated fleet within a minute', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: { ...process.env, FORESIGHT_LISTEN: `127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const started = Date.now();
      await waitFor('/-/ready', async () => ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined), 60_000, 250);
      expect(Date.now() - started).toBeLessThan(60_000);
      const samples = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      expect(new Set(samples.filter((s) => s.name === 'foresight_forecast').map((s) => s.labels['instance'])).size).toBe(20);
      // device auto on a machine without CUDA: serves on CPU and says why
      expect(samples.find((s) => s.name === 'foresight_model_info')?.labels['execution_provider']).toBe('cpu');
      if (existsSync(cudaProviderLibrary())) expect(out).toMatch(/on cpu \(CUDA execution provider unavailable \(.+\); using CPU\)/);
      else {
        // a CPU-only install (the usual case) is one short line, not the library path and how to install it
        const line = logMessages(out)
          .split('\n')
          .find((m) => m.startsWith('model '));
        expect(line).toMatch(/ on cpu \(CUDA execution provider unavailable: provider libraries not installed\)$/);
        expect(out).not.toContain('libonnxruntime_providers_cuda.so');
      }
      // the banner comes once start() is done: the first cycle also scores the past columns
      await waitFor('the banner', () => Promise.resolve(out.includes(`fleet:    http://127.0.0.1:${port}/api/v1/fleet\n`) ? true : undefined), 60_000, 250);
      expect(out).toContain(`preview:  http://127.0.0.1:${port}/`);
      // the banner says what is served, and every command it suggests works
      expect(out).toContain(
        'Foresight is serving (embedded default) a simulated fleet of 20 servers on a simulated clock at 60x real time (a 5m cycle every 5 s of wall time)\n',
      );
      const a = `http://127.0.0.1:${port}`;
      for (const p of ['/', '/metrics', '/api/v1/fleet']) expect(out).toContain(`${a}${p}\n`);
      for (const p of ['/', '/metrics', '/api/v1/fleet']) expect((await fetch(`${a}${p}`)).status).toBe(200);
      expect(out).toContain(`scenario: curl -XPOST ${a}/simulator/scenario -d critical`);
      expect((await fetch(`${a}/simulator/scenario`, { method: 'POST', body: 'critical' })).status).toBe(200);
      const incident = /incident: curl -XPOST (\S+) -d '(.+)'\n/.exec(out);
      expect(incident?.[1]).toBe(`${a}/simulator/incidents`);
      expect((await fetch(incident![1]!, { method: 'POST', body: incident![2]! })).status).toBe(201);
      // changes made through the API are logged, so the log explains what follows
      await waitFor(
        'the switch in the log',
        () => Promise.resolve(/^simulator: incident injected on \S+ at .+Z \(simulated clock\)$/m.test(logMessages(out)) ? true : undefined),
        10_000,
        100,
      );
      expect(logMessages(out)).toMatch(/^simulator: scenario switched to critical at \d{4}-\d\d-\d\dT\d\d:\d\dZ \(simulated clock\)$/m);
      // one line per cycle: its time, instances, duration, worst level, source state
      // every log line says when and how bad: logfmt with a timestamp and a level
      const entries = logEntries(out);
      expect(entries.length).toBeGreaterThan(2);
      for (const e of entries) {
        expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(['info', 'warn', 'error']).toContain(e.level);
      }
      expect(entries.find((e) => e.msg.startsWith('cycle '))?.level).toBe('info');
      expect(logMessages(out)).toMatch(
        /^cycle \d{4}-\d\d-\d\d \d\d:\d\dZ: 20 instances \(20 ready\) in \d+\.\d\d s, worst [a-z_]+ \(\w+, \d+\), source simulator \(20 servers\) up$/m,
      );
      const fleet = (await (await fetch(`${a}/api/v1/fleet`)).json()) as { source: unknown };
      expect(fleet.source).toEqual({
        type: 'simulator',
        url: null,
        up: true,
        downSince: null,
        lastSuccess: expect.any(Number) as number,
        error: null,
        clock: { speed: 60 },
      });
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(0);
    }
  });
});

describe('foresight serve against a Prometheus that is down', () => {
  test('when the URL answers nothing, then the banner names it, the fleet JSON says since when and why, and no credential is shown', async () => {
    const port = await freePort();
    const dead = await freePort();
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: { ...process.env, FORESIGHT_LISTEN: `127.0.0.1:${port}`, FORESIGHT_PROMETHEUS_URL: `http://reader:s3cret@127.0.0.1:${dead}/prom/` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const url = `http://127.0.0.1:${dead}/prom`;
    try {
      const a = `http://127.0.0.1:${port}`;
      await waitFor('the banner', () => Promise.resolve(out.includes(`fleet:    ${a}/api/v1/fleet`) ? true : undefined), 60_000, 250);
      expect(out).toContain(`Foresight is serving forecasts for the servers in Prometheus at ${url} (real time, a cycle every 5m)\n`);
      // nothing that works only with the simulator
      expect(out).not.toContain('simulat');
      expect((await fetch(`${a}/simulator/scenario`, { method: 'POST', body: 'critical' })).status).toBe(404);
      const suggested = /source: {3}curl -s (\S+) \| grep -E '(.+)'\n/.exec(out);
      expect(suggested?.[1]).toBe(`${a}/metrics`);
      const metrics = await (await fetch(suggested![1]!)).text();
      expect(metrics.split('\n').filter((l) => new RegExp(suggested![2]!).test(l))).toEqual(['foresight_source_up 0']);
      expect(metrics).toContain(`foresight_source_info{type="prometheus",url="${url}"} 1\n`);
      const fleet = (await (await fetch(`${a}/api/v1/fleet`)).json()) as { source: Record<string, unknown>; stale: boolean };
      expect(fleet.stale).toBe(true);
      expect(fleet.source).toEqual({
        type: 'prometheus',
        url,
        up: false,
        downSince: expect.any(Number) as number,
        lastSuccess: null,
        error: expect.stringContaining('ECONNREFUSED') as string,
        clock: null,
      });
      expect(fleet.source['downSince'] as number).toBeLessThanOrEqual(Date.now() / 1000);
      expect(logMessages(out)).toMatch(
        new RegExp(
          `^cycle .+: prometheus http://127\\.0\\.0\\.1:${dead}/prom/ down since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ: .*ECONNREFUSED.*; no forecasts yet$`,
          'm',
        ),
      );
      expect(out + metrics + JSON.stringify(fleet)).not.toContain('s3cret');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('reload', () => {
  test('when the config or model is broken on reload, then the old ones keep serving and the reason is returned', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'foresight-reload-'));
    const file = path.join(dir, 'foresight.yml');
    const port = await freePort();
    await writeFile(file, `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\n`);
    const app = createApp({ loaded: await loadConfig(file, {}), configFile: file, repoRoot: REPO, log: () => undefined, env: {} });
    await app.start();
    try {
      const count = async (): Promise<number> =>
        parseExposition(await (await fetch(`${app.address()}/metrics`)).text()).filter((s) => s.name === 'foresight_forecast').length;
      const before = await count();
      // by default at the longest horizon (8h) only
      expect(before).toBe(20 * 6 * 1 * 3);

      await writeFile(file, `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\n  bogus: true\n`);
      let res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
      expect({ status: res.status, body: await res.text() }).toEqual({
        status: 500,
        body: `failed to reload config and model (still serving the previous ones): ${file}: source.bogus: unknown key (allowed here: type, step, interval, delay, staleness, keep_stale, forget_after, prometheus, simulator)\n`,
      });
      expect(await count()).toBe(before);

      await writeFile(file, `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\nmodel:\n  path: ${dir}/no-model\n`);
      res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain(`${dir}/no-model/model.json: cannot read (ENOENT)`);
      expect(await count()).toBe(before);
      const errs = parseExposition(await (await fetch(`${app.address()}/metrics`)).text()).filter(
        (s) => s.name === 'foresight_errors_total' && s.labels['stage'] === 'reload',
      );
      expect(Object.fromEntries(errs.map((e) => [e.labels['reason'], e.value]))).toEqual({ config: 1, model: 1 });

      await writeFile(file, `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\nforecast:\n  percentiles: [50]\n`);
      res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await count()).toBe(20 * 6 * 1 * 1);
    } finally {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  test("when a contract-1 model (the previous one, v1) is swapped for a contract-2 model on reload, then it serves that model's forecasts and says how much week context each server had; a model of an unknown contract version is refused", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'foresight-reload-v2-'));
    const file = path.join(dir, 'foresight.yml');
    const port = await freePort();
    const smokeV2 = path.join(__dirname, 'fixtures', 'model-v2-smoke');
    // the smoke model forecasts 1 h: the published horizons stay within it
    const config = (model: string): string =>
      `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\n  simulator:\n    history: 3d\nforecast:\n  horizons: [30m, 1h]\nmodel:\n  path: ${model}\n`;
    await writeFile(file, config(path.join(REPO, 'models', 'foresight-tft-v1')));
    const app = createApp({ loaded: await loadConfig(file, {}), configFile: file, repoRoot: REPO, log: () => undefined, env: {} });
    await app.start();
    try {
      const scrape = async (): Promise<ReturnType<typeof parseExposition>> => parseExposition(await (await fetch(`${app.address()}/metrics`)).text());
      const modelName = async (): Promise<string | undefined> => (await scrape()).find((s) => s.name === 'foresight_model_info')?.labels['model'];
      const shipped = (JSON.parse(await readFile(path.join(REPO, 'models', 'foresight-tft-v1', 'model.json'), 'utf8')) as { name: string }).name;
      expect(shipped).toBe('foresight-tft');
      expect(await modelName()).toBe(shipped);

      const v3 = path.join(dir, 'v3');
      await cp(smokeV2, v3, { recursive: true });
      const manifest = JSON.parse(await readFile(path.join(v3, 'model.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(v3, 'model.json'), JSON.stringify({ ...manifest, contract_version: 3 }));
      await writeFile(file, config(v3));
      let res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
      expect({ status: res.status, body: await res.text() }).toEqual({
        status: 500,
        body: `failed to reload config and model (still serving the previous ones): ${v3}/model.json: this sidecar cannot feed the model: contract_version 3: this sidecar serves contract versions 1 (or absent), 2; a model of version 3 needs a sidecar that knows its inputs and outputs\n`,
      });
      expect(await modelName()).toBe(shipped);

      await writeFile(file, config(smokeV2));
      res = await fetch(`${app.address()}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await modelName()).toBe('foresight-tft2-smoke');
      const samples = await scrape();
      const forecasts = samples.filter((s) => s.name === 'foresight_forecast');
      // by default at the longest horizon (1h) only
      expect(forecasts).toHaveLength(20 * 6 * 1 * 3);
      expect(forecasts.every((s) => Number.isFinite(s.value) && s.value >= 0)).toBe(true);
      expect(samples.filter((s) => s.name === 'foresight_instance_ready' && s.value === 1)).toHaveLength(20);
      // three days of simulated history: the week context is partly there, and the API says so
      // (71 whole hours back from a 5-minute origin just before now; 72 if the origin is exactly now)
      const fleet = (await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as {
        instances: Array<{ instance: string; history: { hours: number; modelHours: number } }>;
      };
      expect(fleet.instances).toHaveLength(20);
      for (const i of fleet.instances) {
        expect(i.history.modelHours).toBe(171);
        expect([i.instance, [71, 72].includes(i.history.hours)]).toEqual([i.instance, true]);
      }
      const one = (await (await fetch(`${app.address()}/api/v1/instances/${fleet.instances[0]!.instance}/forecast`)).json()) as {
        history: { hours: number };
        metrics: Record<string, { history: unknown[]; forecast: { times: number[] } | null }>;
      };
      expect(one.history.hours).toBe(fleet.instances[0]!.history.hours);
      // the cones draw the last day, though the model read more
      expect(one.metrics['cpu']!.history).toHaveLength(288);
      expect(one.metrics['cpu']!.forecast!.times).toHaveLength(12);
    } finally {
      await app.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('sharding', () => {
  test('when 1,000 instances are hashed into 3 shards, then each lands in exactly one and the shards are balanced', () => {
    const fleet = buildFleet(scaleFleet(1000), 1);
    const sizes = [0, 1, 2].map((i) => fleet.filter((s) => inShard(s.instance, 3, i)).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const s of fleet) expect([0, 1, 2].filter((i) => inShard(s.instance, 3, i))).toHaveLength(1);
    for (const n of sizes) expect(n).toBeGreaterThan(250);
  });

  test('when two sidecars shard the simulated fleet, then together they cover it exactly once', async () => {
    const apps = await Promise.all(
      [0, 1].map(async (index) => {
        const loaded = await parseConfig({ listen: '127.0.0.1:0', source: { type: 'simulator' }, sharding: { total: 2, index } }, `shard ${index}`);
        const app = createApp({ loaded, repoRoot: REPO, log: () => undefined });
        await app.start();
        return app;
      }),
    );
    try {
      const sets = await Promise.all(
        apps.map(async (a) =>
          ((await (await fetch(`${a.address()}/api/v1/fleet`)).json()) as { instances: Array<{ instance: string }> }).instances.map((i) => i.instance),
        ),
      );
      expect(sets[0]!.length).toBeGreaterThan(0);
      expect(sets[1]!.length).toBeGreaterThan(0);
      expect(sets[0]!.filter((i) => sets[1]!.includes(i))).toEqual([]);
      expect([...sets[0]!, ...sets[1]!].sort()).toEqual(
        buildFleet(scaleFleet(20), 1)
          .map((s) => s.instance)
          .sort(),
      );
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  });
});
