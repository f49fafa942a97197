/**
 * @jest-environment node
 *
 * The sidecar's preview page after `npm start`-equivalent startup (the built sidecar, no config:
 * simulated fleet, shipped model), in real Chromium: both views, drawn by the plugin's own
 * components from the sidecar's live data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, PLUGIN, describeWithChromium, launch } from './browser';

const MAIN = path.join(PLUGIN, '..', 'sidecar', 'dist', 'main.js');

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

async function waitReady(url: string, timeoutMs: number): Promise<void> {
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

describeWithChromium('sidecar preview page in Chromium', () => {
  let child: ChildProcess;
  let browser: Browser;
  let base: string;
  let output = '';

  beforeAll(async () => {
    for (const f of [MAIN, path.join(PLUGIN, 'dist-preview', 'preview.js')]) {
      if (!existsSync(f)) {
        throw new Error(`${f} is missing: run npm run build at the repository root first`);
      }
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [MAIN, 'serve'], { cwd: path.join(PLUGIN, '..'), env: { ...process.env, FORESIGHT_LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    await waitReady(`${base}/-/ready`, 90_000);
    browser = await launch();
  }, 150_000);
  afterAll(async () => {
    await browser?.close();
    child?.kill('SIGTERM');
  });

  test('when the page opens, then it shows the heatmap of the whole fleet and forecast cones, with live data', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.getByTestId('heatmap').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('heatmap').getAttribute('data-rows')).resolves.toBe('20');
    await expect(page.getByTestId('heatmap-row').count()).resolves.toBe(20);
    // predicted columns for the configured horizons
    const first = page.getByTestId('heatmap-row').first();
    await expect(first.locator('[data-predicted="true"]').count()).resolves.toBe(7);
    // cones for the instance at the top of the heatmap, one per metric, with bands
    await page.getByTestId('cone').first().waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('cone').count()).resolves.toBe(6);
    expect(await page.locator('[data-testid="cone"] [data-testid="band"]').count()).toBeGreaterThanOrEqual(6);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/^20 instances · forecast origin \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    // a click on another row draws that instance's cones
    const other = await page.getByTestId('heatmap-row').nth(5).getAttribute('data-instance');
    await page.locator(`[data-testid="heatmap-row"][data-instance="${other}"] [data-testid="row-instance"]`).click();
    await page.locator(`[data-testid="cone"][data-instance="${other}"]`).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'preview.png') });
    expect(errors).toEqual([]);
  });
});
