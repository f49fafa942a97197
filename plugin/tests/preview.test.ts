/**
 * @jest-environment node
 *
 * The sidecar's preview page in real Chromium, drawn by the plugin's own components:
 * - on a hand-built fleet (tests/scenario.ts) served the way the sidecar serves it, where the
 *   states must be exact: who is worst, a ranking change, a source that is down, a server with too
 *   little history;
 * - on the live sidecar after an `npm start`-equivalent start (the built sidecar, no config:
 *   simulated fleet, shipped model), and on one pointed at a Prometheus that does not answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { renderPreviewPage } from '../../sidecar/src/api/preview';
import { ARTIFACTS, PLUGIN, describeWithChromium, launch } from './browser';
import { coneInstances, expectLegend, expectTimeAxis, expectTooltipInside, selectedRow } from './checks';
import {
  SOURCE_DOWN,
  SOURCE_UP,
  type ServerSpec,
  type SourceJson,
  degradedSpecs,
  fleetJson,
  fleetSpecs,
  forecastJson,
} from './scenario';

const MAIN = path.join(PLUGIN, '..', 'sidecar', 'dist', 'main.js');
const BUNDLE = path.join(PLUGIN, 'dist-preview', 'preview.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${url} not ready within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Serves the preview page, its bundle and the hand-built fleet's API; `cycle()` tells open pages a new cycle ran. */
async function serveScenario(): Promise<{
  url: string;
  set: (specs: ServerSpec[], source?: SourceJson) => void;
  cycle: () => void;
  close: () => Promise<void>;
}> {
  let specs = fleetSpecs();
  let source = SOURCE_UP;
  const streams = new Set<http.ServerResponse>();
  const bundle = readFileSync(BUNDLE, 'utf8');
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const json = (status: number, body: unknown): void =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (p === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(renderPreviewPage(true));
    } else if (p === '/preview.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (p === '/api/v1/fleet') {
      json(200, fleetJson(specs, source));
    } else if (p.startsWith('/api/v1/instances/')) {
      const body = forecastJson(specs, decodeURIComponent(p.split('/')[4] ?? ''));
      json(body ? 200 : 404, body ?? { error: 'unknown instance' });
    } else if (p === '/api/v1/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': cycles\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
    } else {
      json(404, { error: 'no route' });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    set: (s, src = SOURCE_UP) => {
      specs = s;
      source = src;
    },
    cycle: () => {
      for (const s of streams) {
        s.write(`event: cycle\ndata: {}\n\n`);
      }
    },
    close: () =>
      new Promise((r) => {
        for (const s of streams) {
          s.end();
        }
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.getByTestId('heatmap').waitFor({ timeout: 30_000 });
  return { page, errors };
}

describeWithChromium('preview page in Chromium on a hand-built fleet', () => {
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serveScenario>>;

  beforeAll(async () => {
    if (!existsSync(BUNDLE)) {
      throw new Error(`${BUNDLE} is missing: run npm run build in plugin/ first`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    site = await serveScenario();
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });
  beforeEach(() => site.set(fleetSpecs()));

  test('when the page opens, then legend, time axis, colour order and the worst server in the cones are there, and the tooltip stays inside', async () => {
    const { page, errors } = await open(browser, site.url);
    await expectLegend(page);
    await expectTimeAxis(page);
    await page.getByTestId('cone').first().waitFor();
    // nothing clicked: the worst predicted server (ppdb002) is framed and drawn
    await expect(coneInstances(page)).resolves.toEqual(['ppdb002']);
    await expect(selectedRow(page)).resolves.toBe('ppdb002');
    await expectTooltipInside(page);
    await expect(page.getByTestId('status').innerText()).resolves.toContain(
      'source: the simulated fleet (simulated clock, 60× real time)'
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  test('when the ranking changes, then the cones move to the new worst server, and a click pins the cones to that row', async () => {
    const { page } = await open(browser, site.url);
    await page.locator('[data-testid="cone"][data-instance="ppdb002"]').first().waitFor();
    site.set(fleetSpecs('ranking-changed'));
    site.cycle();
    await page.locator('[data-testid="cone"][data-instance="ppweb001"]').first().waitFor({ timeout: 10_000 });
    await expect(coneInstances(page)).resolves.toEqual(['ppweb001']);
    await expect(selectedRow(page)).resolves.toBe('ppweb001');
    await expect(page.getByTestId('message').count()).resolves.toBe(0);
    await page.locator('[data-testid="heatmap-row"][data-instance="ppml0003"] [data-testid="row-instance"]').click();
    await page.locator('[data-testid="cone"][data-instance="ppml0003"]').first().waitFor({ timeout: 10_000 });
    await expect(selectedRow(page)).resolves.toBe('ppml0003');
    // a clicked row stays in the cones when the ranking changes back
    site.set(fleetSpecs());
    site.cycle();
    await page.waitForTimeout(500);
    await expect(coneInstances(page)).resolves.toEqual(['ppml0003']);
    await page.close();
  });

  test('when a server with too little history is clicked, then its cones say so', async () => {
    const { page } = await open(browser, site.url);
    await page.locator('[data-testid="heatmap-row"][data-instance="ppsrv001"] [data-testid="row-instance"]').click();
    await expect(page.getByTestId('cone-state').innerText()).resolves.toContain(
      'ppsrv001: too little history for a forecast yet'
    );
    await expect(page.getByTestId('message').count()).resolves.toBe(0);
    await page.close();
  });

  test('when the fleet JSON says one server is stale and one unknown, then their rows say so, the legend explains it, and their cones say how old the data is', async () => {
    site.set(degradedSpecs());
    const { page, errors } = await open(browser, site.url);
    const row = (instance: string): ReturnType<Page['locator']> =>
      page.locator(`[data-testid="heatmap-row"][data-instance="${instance}"]`);
    await expect(row('ppml0003').getByTestId('row-state').innerText()).resolves.toBe('stale');
    await expect(row('ppml0003').getByTestId('row-state').getAttribute('title')).resolves.toMatch(
      /^stale: last data at 2026-12-01 13:40 \(\d+ (h \d+ )?min ago\)/
    );
    await expect(row('ppml0003').locator('[data-predicted="true"][data-stale="true"]').count()).resolves.toBe(7);
    await expect(row('ppra001').getByTestId('row-state').innerText()).resolves.toBe('unknown');
    await expect(row('ppra001').getByTestId('row-unknown').innerText()).resolves.toBe(
      'unknown: no current data or forecast'
    );
    await expect(row('ppra001').locator('[data-predicted="true"]').count()).resolves.toBe(0);
    await expect(page.getByTestId('heatmap-row').first().getAttribute('data-instance')).resolves.toBe('ppra001');
    const names = await page.getByTestId('legend-name').allInnerTexts();
    expect(names.slice(-2)).toEqual(['no data / unknown', 'stale (last good data)']);
    // the worst predicted server is the default cone, never the unknown one
    await expect(coneInstances(page)).resolves.toEqual(['ppdb002']);
    await row('ppml0003').getByTestId('row-instance').click();
    await page.locator('[data-testid="cone-summary"]', { hasText: 'ppml0003' }).waitFor();
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toMatch(
      /^ppml0003 · ml_compute — stale: last data at 2026-12-01 13:40 \(/
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview-stale-unknown.png') });
    await row('ppra001').getByTestId('row-instance').click();
    await page.locator('[data-testid="cone-summary"]', { hasText: 'ppra001' }).waitFor();
    await expect(page.getByTestId('cone-state').innerText()).resolves.toContain(
      'ppra001: unknown: its data has been missing or bad'
    );
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toMatch(
      /^ppra001 · risk_analytics — unknown: last data at 2026-12-01 13:20 \(.*\); no current forecast/
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  test('when the source is down, then a banner names it, since when, the last success and the error', async () => {
    site.set(fleetSpecs(), SOURCE_DOWN);
    const { page } = await open(browser, site.url);
    const text = await page.getByTestId('source-down').innerText();
    expect(text).toMatch(
      /^Source down: Prometheus at http:\/\/prometheus\.example:9090 is not answering since 2026-12-01 14:02 \(\d+ (h \d+ )?min ago\)\./
    );
    expect(text).toMatch(/Last successful read: 2026-12-01 14:00/);
    expect(text).toContain('Error: timeout: no answer from /api/v1/query_range within 30s');
    await page.close();
  });
});

describeWithChromium('preview page in Chromium on the live sidecar', () => {
  const children: ChildProcess[] = [];
  let browser: Browser;
  let output = '';

  async function start(env: Record<string, string>, ready: '/-/ready' | '/-/healthy'): Promise<string> {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      cwd: path.join(PLUGIN, '..'),
      env: { ...process.env, ...env, FORESIGHT_LISTEN: `127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    await waitFor(`http://127.0.0.1:${port}${ready}`, 90_000);
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    for (const f of [MAIN, BUNDLE]) {
      if (!existsSync(f)) {
        throw new Error(`${f} is missing: run npm run build at the repository root first`);
      }
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const c of children) {
      c.kill('SIGTERM');
    }
  });

  test('when the page opens on the simulated fleet, then the heatmap, its legend and axis, and the worst server in the cones are there', async () => {
    const base = await start({}, '/-/ready');
    const { page, errors } = await open(browser, `${base}/`);
    await expect(page.getByTestId('heatmap').getAttribute('data-rows')).resolves.toBe('20');
    await expectLegend(page);
    await expectTimeAxis(page);
    await page.getByTestId('cone').first().waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('cone').count()).resolves.toBe(6);
    expect(await page.locator('[data-testid="cone"] [data-testid="band"]').count()).toBeGreaterThanOrEqual(6);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(
      /^20 instances · forecast origin \d{4}-\d\d-\d\d \d\d:\d\d UTC · source: the simulated fleet \(simulated clock, 60× real time\)/
    );
    // nothing clicked: the cones show the framed row, which is the worst predicted server of the fleet JSON
    const fleet = (await (await fetch(`${base}/api/v1/fleet`)).json()) as {
      instances: Array<{ instance: string; score?: number; predicted?: Record<string, number> }>;
    };
    const shown = await coneInstances(page);
    expect(shown).toHaveLength(1);
    await expect(selectedRow(page)).resolves.toBe(shown[0]);
    const worstPredicted = (i: { predicted?: Record<string, number> }): number =>
      Math.max(-1, ...Object.values(i.predicted ?? {}));
    const top = Math.max(...fleet.instances.map(worstPredicted));
    const level = (s: number): number => [90, 80, 70, 60, 50, 30].findIndex((m) => s >= m);
    // same level as the fleet's worst prediction (the scores may have moved by a cycle since)
    expect(level(worstPredicted(fleet.instances.find((i) => i.instance === shown[0])!))).toBe(level(top));
    await expectTooltipInside(page);
    // a click on another row draws that instance's cones and frames its row
    const other = await page.getByTestId('heatmap-row').nth(5).getAttribute('data-instance');
    await page.locator(`[data-testid="heatmap-row"][data-instance="${other}"] [data-testid="row-instance"]`).click();
    await page.locator(`[data-testid="cone"][data-instance="${other}"]`).first().waitFor({ timeout: 15_000 });
    await expect(selectedRow(page)).resolves.toBe(other);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview.png') });
    expect(errors).toEqual([]);
  });

  test('when the fleet switches to critical, then after every cycle the cones show the worst predicted server, never the empty message', async () => {
    const base = await start({}, '/-/ready');
    const { page, errors } = await open(browser, `${base}/`);
    await page.getByTestId('cone').first().waitFor({ timeout: 30_000 });
    const before = (await coneInstances(page))[0];
    const switched = await fetch(`${base}/simulator/scenario`, { method: 'POST', body: 'critical' });
    expect(switched.status).toBe(200);
    type Fleet = {
      origin: number;
      instances: Array<{ instance: string; predicted?: Record<string, number>; score?: number }>;
    };
    const level = (s: number): number => 6 - [90, 80, 70, 60, 50, 30, -Infinity].findIndex((m) => s >= m);
    const worstLevel = (i: Fleet['instances'][number]): number =>
      level(Math.max(-1, ...Object.values(i.predicted ?? {})));
    // watch the page through the cycles that follow (5 s of wall time each at 60×): whenever the
    // page and /api/v1/fleet agree on the forecast origin, the cones show a server at the fleet's
    // worst predicted level, and that row is framed
    const seen = new Set<string>();
    let checks = 0;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && checks < 12) {
      await page.waitForTimeout(1500);
      const fleet = (await (await fetch(`${base}/api/v1/fleet`)).json()) as Fleet;
      const status = await page.getByTestId('status').innerText();
      if (!status.includes(new Date(fleet.origin * 1000).toISOString().slice(0, 16).replace('T', ' '))) {
        continue; // a cycle landed between the page's refresh and this fetch
      }
      await expect(page.getByTestId('message').count()).resolves.toBe(0);
      const shown = await coneInstances(page);
      expect(shown).toHaveLength(1);
      await expect(selectedRow(page)).resolves.toBe(shown[0]);
      const top = Math.max(...fleet.instances.map(worstLevel));
      expect({ instance: shown[0], level: worstLevel(fleet.instances.find((i) => i.instance === shown[0])!) }).toEqual({
        instance: shown[0],
        level: top,
      });
      seen.add(shown[0]!);
      checks++;
    }
    expect(checks).toBeGreaterThanOrEqual(12);
    // the records: which servers the cones showed after the switch (the one before: `before`)
    console.log(`cones before critical: ${before}; after: ${[...seen].join(', ')} (${checks} consistent checks)`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview-critical.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);

  test('when the sidecar reads a Prometheus that does not answer, then the page says the source is down', async () => {
    const dead = await freePort();
    const base = await start({ FORESIGHT_PROMETHEUS_URL: `http://127.0.0.1:${dead}` }, '/-/healthy');
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/`);
    const banner = page.getByTestId('source-down');
    await banner.waitFor({ timeout: 60_000 });
    await expect(banner.innerText()).resolves.toContain(`Source down: Prometheus at http://127.0.0.1:${dead}`);
    await expect(banner.innerText()).resolves.toContain('No successful read yet');
    await expect(page.getByTestId('status').innerText()).resolves.toMatch(/^no forecast yet/);
    // the preview says what is missing, not the panel's hints about Grafana queries
    await expect(page.getByTestId('waiting').innerText()).resolves.toContain('No forecasts yet');
    await expect(page.getByTestId('message').count()).resolves.toBe(0);
    await page.close();
  }, 120_000);
});
