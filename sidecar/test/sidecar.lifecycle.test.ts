/**
 * The sidecar's lifecycle as an operator meets it: SIGTERM at any moment (the first cycle, a read
 * that never finishes), reloads that come all at once, live calibration across a reload, the HTTP
 * surface's answers to wrong methods and broken URLs, and the event stream when a cycle fails.
 * Real processes (the built CLI), a real Prometheus, the shipped model.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWith } from './harness/integration';
import { removeTempDirs, simulatedHistory, startPrometheus } from './harness/prometheus';
import type { PrometheusHandle } from './harness/prometheus';
import { freePort, waitFor } from './harness/processes';
import { parseExposition } from './harness/exposition';
import { logEntries } from './harness/log';
import { loadConfig, parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { formatLogLine } from '../src/app/log';

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const MAIN = path.join(__dirname, '..', 'dist', 'main.js');
const HOUR = 3600;
/** What Kubernetes-style orchestration can rely on: exit within this after SIGTERM, whatever is running. */
const SHUTDOWN_BOUND_MS = 10_000;

interface Sidecar {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function startSidecar(configFile: string): Sidecar {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

/** The exit code when the process exits within `ms`, else 'still running'. */
async function exitWithin(s: Sidecar, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([s.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms)))]);
  clearTimeout(timer);
  return r;
}

async function kill(s: Sidecar): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
}

/** Resident memory of a process, bytes (Linux /proc). */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * A query API stand-in that is reached but never finishes answering: 200, then the start of a
 * JSON body one byte per second. `onRequest` runs when the first query arrives.
 */
async function drippingServer(onRequest: () => void): Promise<{ url: string; close(): Promise<void> }> {
  let first = true;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = '{"status":"success","data":{"resultType":"matrix","result":[';
    let i = 0;
    const t = setInterval(() => res.write(body[i++ % body.length]!), 1000);
    res.on('close', () => clearInterval(t));
    if (first) {
      first = false;
      onRequest();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A pass-through proxy to `target` that calls `onFirstQuery` when the first query_range arrives (before forwarding it). */
async function watchingProxy(target: string, onFirstQuery: () => void): Promise<{ url: string; close(): Promise<void> }> {
  let first = true;
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    if (first && req.url?.includes('query_range')) {
      first = false;
      onFirstQuery();
    }
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let dir: string;
beforeAll(async () => (dir = await mkdtemp(path.join(tmpdir(), 'foresight-lifecycle-'))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('shutdown', () => {
  test('when SIGTERM arrives while the first cycle waits on an answer that drips one byte a second, then it exits with 0 within 10 s', async () => {
    const started: { sidecar?: Sidecar } = {};
    let signalled = 0;
    const drip = await drippingServer(() => {
      signalled = Date.now();
      started.sidecar!.child.kill('SIGTERM');
    });
    const port = await freePort();
    const file = path.join(dir, 'drip.yml');
    // the defaults a user has (30 s timeout, 2 retries); the hard bound is set far away, so
    // what is checked is that the read is aborted, not that the process is cut off
    await writeFile(
      file,
      `listen: 127.0.0.1:${port}\nshutdown_timeout: 60s\nsource:\n  type: prometheus\n  prometheus:\n    url: ${drip.url}\nmodel:\n  device: cpu\n`,
    );
    const sidecar = (started.sidecar = startSidecar(file));
    try {
      const code = await exitWithin(sidecar, 60_000);
      expect(signalled).toBeGreaterThan(0);
      expect({ code, within: Date.now() - signalled <= SHUTDOWN_BOUND_MS }).toEqual({ code: 0, within: true });
      const msgs = logEntries(sidecar.output()).map((e) => e.msg);
      expect(msgs).toContain('SIGTERM: shutting down (at most 60 s)');
      expect(msgs).toContain('cycle aborted: the sidecar is shutting down');
      // it never got to serve: no banner
      expect(sidecar.output()).not.toContain('Foresight is serving');
    } finally {
      await kill(sidecar);
      await drip.close();
    }
  });
});

describe('shutdown deadline', () => {
  test('when cleaning up takes longer than shutdown_timeout, then it says so and exits with 0 anyway', async () => {
    const port = await freePort();
    const file = path.join(dir, 'deadline.yml');
    // 3,000 simulated servers: the first cycle's inference runs for many seconds, and a batch
    // already running is not interrupted, so the cleanups outlast a 1 s bound
    await writeFile(
      file,
      `listen: 127.0.0.1:${port}\nshutdown_timeout: 1s\nsource:\n  type: simulator\n  simulator:\n    servers: 3000\nmodel:\n  device: cpu\n`,
    );
    const sidecar = startSidecar(file);
    try {
      await waitFor(
        'the first cycle to start',
        () => Promise.resolve(logEntries(sidecar.output()).some((e) => e.msg.startsWith('model ')) ? true : undefined),
        60_000,
        100,
      );
      sidecar.child.kill('SIGTERM');
      expect(await exitWithin(sidecar, 30_000)).toBe(0);
      const msgs = logEntries(sidecar.output()).map((e) => `${e.level} ${e.msg}`);
      expect(msgs).toContain('warn shutdown took longer than 1 s; exiting now');
    } finally {
      await kill(sidecar);
    }
  });
});

describeWith(['prometheus', 'promtool'])('shutdown against a real Prometheus', () => {
  let prom: PrometheusHandle;
  beforeAll(async () => {
    // the same cached two days the other Prometheus suites use, ending on the hour before now
    const h = await simulatedHistory({
      days: 2,
      end: Math.floor(Date.now() / 1000 / HOUR) * HOUR,
      schedule: 'healthy,40h:critical',
      incidents: 4,
      incidentsWindow: [3 * HOUR, 34 * HOUR],
    });
    prom = await startPrometheus({ blocksDir: h.blocksDir });
  });
  afterAll(async () => {
    await prom?.stop();
    await removeTempDirs();
  });

  test('when SIGTERM arrives as the first cycle reads its history, then it exits with 0 within 10 s', async () => {
    const started: { sidecar?: Sidecar } = {};
    let signalled = 0;
    const proxy = await watchingProxy(prom.url, () => {
      signalled = Date.now();
      started.sidecar!.child.kill('SIGTERM');
    });
    const port = await freePort();
    const file = path.join(dir, 'prom.yml');
    await writeFile(
      file,
      `listen: 127.0.0.1:${port}\nshutdown_timeout: 60s\nsource:\n  type: prometheus\n  prometheus:\n    url: ${proxy.url}\nmodel:\n  device: cpu\n`,
    );
    const sidecar = (started.sidecar = startSidecar(file));
    try {
      const code = await exitWithin(sidecar, 60_000);
      expect(signalled).toBeGreaterThan(0);
      expect({ code, within: Date.now() - signalled <= SHUTDOWN_BOUND_MS }).toEqual({ code: 0, within: true });
      expect(sidecar.output()).not.toContain('Foresight is serving');
    } finally {
      await kill(sidecar);
      await proxy.close();
    }
  });
});

describe('reload', () => {
  test('when 100 reloads arrive at once, then one runs, the others get 409, and resident memory stays within 50 MB', async () => {
    const port = await freePort();
    const file = path.join(dir, 'reload.yml');
    // real time: no scheduled cycle runs during the test, only the reloads' own
    await writeFile(file, `listen: 127.0.0.1:${port}\nsource:\n  type: simulator\n  simulator:\n    speed: 1\nmodel:\n  device: cpu\n`);
    const sidecar = startSidecar(file);
    const a = `http://127.0.0.1:${port}`;
    const reloadAll = async (n: number): Promise<Record<number, number>> => {
      const statuses = await Promise.all(Array.from({ length: n }, async () => (await fetch(`${a}/-/reload`, { method: 'POST' })).status));
      const counts: Record<number, number> = {};
      for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
      return counts;
    };
    try {
      await waitFor('ready', async () => ((await fetch(`${a}/-/ready`)).ok ? true : undefined), 60_000, 250);
      // reloads one after another first: the allocator's arenas grow over the first few and then
      // stay (measured: +60 MB over 10, then flat), so the baseline is taken once they have
      for (let k = 0; k < 10; k++) expect(await reloadAll(1)).toEqual({ 200: 1 });
      const before = rssBytes(sidecar.child.pid!);
      expect(await reloadAll(100)).toEqual({ 200: 1, 409: 99 });
      expect(await reloadAll(100)).toEqual({ 200: 1, 409: 99 });
      const after = rssBytes(sidecar.child.pid!);
      expect((after - before) / 2 ** 20).toBeLessThan(50);
      // refused reloads are refused, not failed: no reload error is counted
      const errs = parseExposition(await (await fetch(`${a}/metrics`)).text()).filter(
        (s) => s.name === 'foresight_errors_total' && s.labels['stage'] === 'reload',
      );
      expect(errs.map((e) => e.value)).toEqual([0, 0]);
      // SIGHUPs that arrive while a reload runs collapse into one more reload after it
      const reloadedBefore = logEntries(sidecar.output()).filter((e) => e.msg.startsWith('reloaded: ')).length;
      // (the kernel merges signals sent back to back: they are spaced until one lands during a reload)
      sidecar.child.kill('SIGHUP');
      await waitFor(
        'a SIGHUP during a reload',
        () => {
          sidecar.child.kill('SIGHUP');
          return Promise.resolve(
            logEntries(sidecar.output()).some((e) => e.msg === 'reload requested while one runs: it follows once that one is done') ? true : undefined,
          );
        },
        30_000,
        100,
      );
      await waitFor(
        'the SIGHUP reloads',
        () => Promise.resolve(logEntries(sidecar.output()).filter((e) => e.msg.startsWith('reloaded: ')).length >= reloadedBefore + 2 ? true : undefined),
        60_000,
        250,
      );
      expect((await fetch(`${a}/-/ready`)).status).toBe(200);
    } finally {
      sidecar.child.kill('SIGTERM');
      expect(await exitWithin(sidecar, 30_000)).toBe(0);
      await kill(sidecar);
    }
  });

  test('when the config is reloaded with the same horizons, then the live calibration series stay; when the horizons change, they start afresh', async () => {
    const file = path.join(dir, 'calibration.yml');
    const config = (horizons: string): string =>
      `listen: 127.0.0.1:0\nsource:\n  type: simulator\n  interval: 24h\nforecast:\n  horizons: [${horizons}]\nmodel:\n  device: cpu\n`;
    await writeFile(file, config('30m, 1h'));
    const clock = { t: Math.floor(Date.now() / 1000 / 300) * 300 };
    const app = createApp({ loaded: await loadConfig(file, {}), configFile: file, repoRoot: REPO, now: () => clock.t, log: () => undefined, env: {} });
    const calibration = async (): Promise<Record<string, number>> => {
      const samples = parseExposition(await (await fetch(`${app.address()}/metrics`)).text());
      return Object.fromEntries(
        samples
          .filter((s) => s.name === 'foresight_forecast_coverage_ratio' || s.name === 'foresight_forecast_pinball_loss')
          .map((s) => [`${s.name}{${s.labels['metric']},${s.labels['horizon']}}`, s.value]),
      );
    };
    await app.start();
    try {
      // the 30 m forecasts are compared with what happened six steps later
      for (let k = 0; k < 7; k++) {
        clock.t += 300;
        await app.runCycle();
      }
      const measured = await calibration();
      expect(Object.keys(measured).sort()).toEqual(
        ['cpu', 'disk', 'iowait', 'load', 'memory', 'network']
          .flatMap((m) => [`foresight_forecast_coverage_ratio{${m},30m}`, `foresight_forecast_pinball_loss{${m},30m}`])
          .sort(),
      );
      // a reload (HTTP, or SIGHUP's requestReload) runs a cycle: the series are still there, carried over
      expect((await fetch(`${app.address()}/-/reload`, { method: 'POST' })).status).toBe(200);
      expect(Object.keys(await calibration()).sort()).toEqual(Object.keys(measured).sort());
      clock.t += 300;
      await app.runCycle();
      expect(Object.keys(await calibration()).sort()).toEqual(Object.keys(measured).sort());
      // other horizons measure something else: no carried numbers under labels they no longer mean
      await writeFile(file, config('1h'));
      expect((await fetch(`${app.address()}/-/reload`, { method: 'POST' })).status).toBe(200);
      expect(await calibration()).toEqual({});
    } finally {
      await app.stop();
    }
  });
});

describe('HTTP surface', () => {
  let app: App;
  beforeAll(async () => {
    const loaded = await parseConfig({ listen: '127.0.0.1:0', source: { type: 'simulator', interval: '24h' }, model: { device: 'cpu' } }, 'test');
    app = createApp({ loaded, repoRoot: REPO, log: () => undefined });
    await app.start();
  });
  afterAll(() => app.stop());

  test('when a path is asked with a method it does not answer, then 405 names the allowed ones in Allow', async () => {
    const cases: Array<[string, string, string]> = [
      ['PUT', '/-/reload', 'POST'],
      ['GET', '/-/reload', 'POST'],
      ['DELETE', '/metrics', 'GET, HEAD'],
      ['POST', '/api/v1/fleet', 'GET, HEAD'],
      ['DELETE', '/simulator/scenario', 'GET, POST, HEAD'],
    ];
    for (const [method, p, allow] of cases) {
      const res = await fetch(`${app.address()}${p}`, { method });
      expect({ method, p, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, p, status: 405, allow });
    }
    // a path that does not exist is still 404
    expect((await fetch(`${app.address()}/nope`, { method: 'DELETE' })).status).toBe(404);
  });

  test('when HEAD is asked where GET works, then it answers like GET without a body', async () => {
    for (const p of ['/metrics', '/-/healthy', '/-/ready', '/api/v1/fleet', '/', '/api/v1/stream']) {
      const get = await fetch(`${app.address()}${p}`, p === '/api/v1/stream' ? { signal: AbortSignal.timeout(1000) } : {}).catch(() => undefined);
      const head = await fetch(`${app.address()}${p}`, { method: 'HEAD' });
      expect({ p, status: head.status, type: head.headers.get('content-type'), body: await head.text() }).toEqual({
        p,
        status: 200,
        type: get?.headers.get('content-type') ?? 'text/event-stream',
        body: '',
      });
    }
  });

  test('when an instance name has malformed percent-encoding, then 400 says so (not 500)', async () => {
    const res = await fetch(`${app.address()}/api/v1/instances/ppdb%E0%A4%A/forecast`);
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 400, body: { error: 'malformed percent-encoding in "ppdb%E0%A4%A"' } });
  });

  test('when the embedded simulator gets a bad control request, then 400 gives the reason the live simulator gives', async () => {
    const cases: Array<[string, string, string]> = [
      ['/simulator/incidents', '{"instance":"ppml0001","kind":"fire"}', 'unknown incident kind "fire" (expected one of: memory_leak, disk_fill)'],
      ['/simulator/incidents', '{"instance":"ppml0001","rampMinutes":"soon"}', '"rampMinutes" must be a number (got "soon")'],
      ['/simulator/incidents', 'not json', 'request body is not JSON: not json'],
      ['/simulator/scenario', '{"scenario":"meltdown"}', 'unknown scenario "meltdown" (expected one of: healthy, busy, degrading, critical)'],
      ['/simulator/scenario', '{"name":"critical"}', '"scenario" is required (a string)'],
    ];
    for (const [p, body, error] of cases) {
      const res = await fetch(`${app.address()}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect({ p, body, status: res.status, answer: await res.json() }).toEqual({ p, body, status: 400, answer: { error } });
    }
    // nothing was switched or injected by the refused requests
    expect(await (await fetch(`${app.address()}/simulator/scenario`)).json()).toMatchObject({ scenario: 'healthy', since: null });
    expect(await (await fetch(`${app.address()}/simulator/incidents`)).json()).toEqual([]);
  });
});

describe('event stream', () => {
  test('when a cycle fails, then subscribers get a cycle_failed event with the stage and reason', async () => {
    const dead = await freePort();
    const loaded = await parseConfig(
      {
        listen: '127.0.0.1:0',
        source: { type: 'prometheus', interval: '24h', prometheus: { url: `http://127.0.0.1:${dead}`, retries: 0 } },
        model: { device: 'cpu' },
      },
      'test',
    );
    const app = createApp({ loaded, repoRoot: REPO, log: () => undefined });
    await app.start();
    const ac = new AbortController();
    try {
      const res = await fetch(`${app.address()}/api/v1/stream`, { signal: ac.signal });
      const reader = res.body!.getReader();
      await app.runCycle();
      let text = '';
      while (!/event: .+\ndata: .+\n\n/.test(text)) text += new TextDecoder().decode(((await reader.read()) as { value?: Uint8Array }).value);
      const m = /event: (\S+)\ndata: (.+)\n\n/.exec(text);
      expect(m?.[1]).toBe('cycle_failed');
      expect(JSON.parse(m![2]!)).toEqual({
        type: 'cycle_failed',
        origin: expect.any(Number) as number,
        stage: 'source',
        reason: 'network',
        error: expect.stringContaining('ECONNREFUSED') as string,
        keeping: null,
      });
    } finally {
      ac.abort();
      await app.stop();
    }
  });
});

describe('logs', () => {
  test('when a message holds quotes, backslashes, newlines or control characters, then it is still one logfmt line that reads back exactly', () => {
    const msg = 'source: memory: HTTP 500: "bad"\nline two\twith \\ and \u0007';
    const line = formatLogLine(msg, 'warn', Date.UTC(2026, 11, 1, 21, 30, 0, 123));
    expect(line).toBe('ts=2026-12-01T21:30:00.123Z level=warn msg="source: memory: HTTP 500: \\"bad\\"\\nline two\\twith \\\\ and \\u0007"');
    expect(line).not.toContain('\n');
    expect(logEntries(line)).toEqual([{ ts: '2026-12-01T21:30:00.123Z', level: 'warn', msg }]);
    expect(formatLogLine('shut down', 'info', 0)).toBe('ts=1970-01-01T00:00:00.000Z level=info msg="shut down"');
  });
});
