/**
 * @jest-environment node
 *
 * The built panel (dist/module.js) in real Chromium, mounted by the harness with frames recorded
 * from a real sidecar + Prometheus run. Screenshots go to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import recorded from '../src/__fixtures__/frames.json';
import { DEFAULT_LEVEL_COLORS } from '../src/levels';
import { ARTIFACTS, buildHarness, describeWithChromium, launch, serveHarness } from './browser';

const OPTIONS = { view: 'heatmap', sort: 'worstCurrent', metrics: [], horizons: [], showThresholds: true, maxPastColumns: 120, levelColors: [...DEFAULT_LEVEL_COLORS] };

function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describeWithChromium('panel in Chromium (built dist/module.js)', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await serveHarness(buildHarness());
    browser = await launch();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean; pluginModule?: unknown }).harnessReady && (window as unknown as { pluginModule?: unknown }).pluginModule !== undefined);
    expect(errors).toEqual([]);
  });
  afterEach(() => page?.close());

  async function mount(frames: unknown[], options: Record<string, unknown>, extra: { width?: number; height?: number; mode?: 'light' | 'dark'; instance?: string } = {}): Promise<void> {
    await page.evaluate((r) => (window as unknown as { mount: (x: unknown) => void }).mount(r), { frames, options, width: extra.width ?? 1100, height: extra.height ?? 520, mode: extra.mode ?? 'light', instance: extra.instance });
  }

  test('when the heatmap is drawn, then there is one row per instance and known cells carry their level colours', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const rows = page.getByTestId('heatmap-row');
    await expect(rows.count()).resolves.toBe(20);
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-instance')));
    expect(names.slice(0, 3)).toEqual(['ppdb002', 'ppdi001', 'ppweb003']);
    const colourOf = (instance: string, column: string): Promise<string> =>
      page.locator(`[data-instance="${instance}"] [data-testid="heatmap-cell"][data-column="${column}"]`).evaluate((e) => getComputedStyle(e).backgroundColor);
    const nowIndex = await page.locator('[data-instance="ppdb002"] [data-predicted="true"]').first().getAttribute('data-column');
    const lastPast = String(Number(nowIndex) - 1);
    await expect(colourOf('ppdb002', lastPast)).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[6]!)); // imminent_failure (91.76)
    await expect(colourOf('ppcon01', '0')).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[0]!)); // healthy (11.87)
    await expect(colourOf('ppml0001', lastPast)).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[5]!)); // critical (80)
    await page.getByTestId('heatmap').screenshot({ path: path.join(ARTIFACTS, 'heatmap.png') });
  });

  test('when the heatmap is drawn, then predicted cells exist and all lie right of the "now" line', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const now = (await page.getByTestId('now-line').boundingBox())!;
    const future = page.locator('[data-instance="ppdb002"] [data-predicted="true"]');
    await expect(future.count()).resolves.toBe(7);
    for (const box of await future.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left))) {expect(box).toBeGreaterThanOrEqual(now.x);}
    const past = await page.locator('[data-instance="ppdb002"] [data-predicted="false"]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    for (const right of past) {expect(right).toBeLessThanOrEqual(now.x + now.width);}
    await expect(page.getByTestId('predicted-label').textContent()).resolves.toContain('predicted');
  });

  test('when a cell is hovered, then the tooltip shows instance, time, score, level and drivers', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const nowIndex = Number(await page.locator('[data-instance="ppdb002"] [data-predicted="true"]').first().getAttribute('data-column'));
    await page.locator(`[data-instance="ppdb002"] [data-column="${nowIndex - 1}"]`).hover();
    const text = await page.getByTestId('tooltip').innerText();
    expect(text).toContain('ppdb002 (database)');
    expect(text).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(text).toContain('score 92 · imminent_failure');
    expect(text).toMatch(/drivers: \w+ \d+/);
  });

  test('when a row is clicked, then the panel asks Grafana to set the instance variable', async () => {
    await mount(recorded.heatmap, OPTIONS);
    await page.locator('[data-testid="heatmap-row"][data-instance="ppml0001"] [data-testid="row-instance"]').click();
    const calls = await page.evaluate(() => (window as unknown as { locationCalls: unknown[] }).locationCalls);
    expect(calls).toEqual([{ query: { 'var-instance': 'ppml0001' }, replace: true }]);
  });

  test('when cones are drawn for the selected instance, then bands come outermost first with p50 inside, plus thresholds and now', async () => {
    await mount(recorded.cones, { ...OPTIONS, view: 'cones' }, { instance: 'ppml0001', height: 560 });
    const cones = page.getByTestId('cone');
    await expect(cones.count()).resolves.toBe(6);
    const memory = page.locator('[data-testid="cone"][data-metric="memory"]');
    await expect(memory.locator('[data-testid="band"]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-lower')}-${e.getAttribute('data-upper')}`))).resolves.toEqual(['10-90']);
    const band = (await memory.locator('[data-testid="band"]').boundingBox())!;
    const p50 = (await memory.getByTestId('p50').boundingBox())!;
    // the 2 px p50 stroke may overhang the band by its half-width where the cone opens at "now"
    expect(p50.y).toBeGreaterThanOrEqual(band.y - 2);
    expect(p50.y + p50.height).toBeLessThanOrEqual(band.y + band.height + 2);
    await expect(memory.getByTestId('thresholds').count()).resolves.toBe(1);
    await expect(memory.getByTestId('cone-now').count()).resolves.toBe(1);
    await page.getByTestId('cones').screenshot({ path: path.join(ARTIFACTS, 'cones.png') });
  });

  test('when all percentile pairs are present, then the 5–95, 10–90 and 25–75 bands nest in that drawing order', async () => {
    const t = Date.UTC(2026, 10, 22, 12);
    const frame = (name: string, labels: Record<string, string>, times: number[], values: number[]): unknown => ({
      name,
      length: times.length,
      fields: [
        { name: 'Time', type: 'time', config: {}, values: times },
        { name: 'Value', type: 'number', config: {}, labels: { __name__: name, ...labels }, values },
      ],
    });
    const base = { instance: 'web-1', profile: 'web_api', metric: 'cpu' };
    const frames = [frame('foresight_metric_value', base, [t - 600000, t - 300000, t], [40, 42, 45])];
    const spread: Record<string, number> = { '5': -20, '10': -12, '25': -5, '50': 0, '75': 5, '90': 12, '95': 20 };
    for (const [h, rise] of [['30m', 5], ['1h', 10], ['2h', 20]] as const) {
      for (const [p, d] of Object.entries(spread)) {frames.push(frame('foresight_forecast', { ...base, horizon: h, percentile: p }, [t], [45 + rise + d * (rise / 10)]));}
    }
    await mount(frames, { ...OPTIONS, view: 'cones' }, { instance: 'web-1' });
    const bands = page.locator('[data-testid="band"]');
    await expect(bands.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-lower')}-${e.getAttribute('data-upper')}`))).resolves.toEqual(['5-95', '10-90', '25-75']);
    const boxes = (await bands.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) as DOMRect[];
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i]!.top).toBeGreaterThanOrEqual(boxes[i - 1]!.top - 0.5);
      expect(boxes[i]!.bottom).toBeLessThanOrEqual(boxes[i - 1]!.bottom + 0.5);
    }
  });

  test('when label values contain HTML, then they render as text', async () => {
    const evil = '<img src=x onerror="window.pwned=1">';
    const frames = (recorded.heatmap as Array<{ fields: Array<{ labels?: Record<string, string> }> }>).map((f) => ({
      ...f,
      fields: f.fields.map((x) => (x.labels?.['instance'] === 'ppdb002' ? { ...x, labels: { ...x.labels, instance: evil, profile: '<b>db</b>' } } : x)),
    }));
    await mount(frames, OPTIONS);
    await expect(page.locator(`[data-testid="heatmap-row"] [data-testid="row-instance"]`).first().textContent()).resolves.toBe(evil);
    await expect(page.locator('#panel img').count()).resolves.toBe(0);
    await expect(page.locator('#panel b').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).resolves.toBeUndefined();
  });

  test('when the data has no Foresight series, then the panel says which queries it expects instead of failing', async () => {
    await mount([], { ...OPTIONS, view: 'both' });
    const text = await page.getByTestId('message').allInnerTexts();
    expect(text.join('\n')).toContain('foresight_risk_score');
    expect(text.join('\n')).toContain('foresight_forecast');
  });

  test('when the theme is dark, then the panel renders with light text', async () => {
    await mount(recorded.heatmap, OPTIONS, { mode: 'dark' });
    const colour = await page.getByTestId('heatmap').evaluate((e) => getComputedStyle(e).color);
    expect(colour).toBe('rgb(216, 217, 218)');
    await page.locator('#panel').screenshot({ path: path.join(ARTIFACTS, 'heatmap-dark.png') });
  });

  test('when there are 1,000 instances, then every row is reachable but only the visible ones are in the page', async () => {
    const t = Date.UTC(2026, 10, 22, 12);
    const frames = Array.from({ length: 1000 }, (_, i) => ({
      name: 'foresight_risk_score',
      length: 12,
      fields: [
        { name: 'Time', type: 'time', config: {}, values: Array.from({ length: 12 }, (_, k) => t + k * 300000) },
        { name: 'Value', type: 'number', config: {}, labels: { __name__: 'foresight_risk_score', instance: `node-${i}`, profile: 'generic' }, values: Array.from({ length: 12 }, (_, k) => (i * 7 + k) % 100) },
      ],
    }));
    await mount(frames, { ...OPTIONS, sort: 'name' });
    await expect(page.getByTestId('heatmap').getAttribute('data-rows')).resolves.toBe('1000');
    expect(await page.getByTestId('heatmap-row').count()).toBeLessThan(60);
    await page.getByTestId('heatmap-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    // rows are rendered as they scroll into view
    await page.locator('[data-testid="heatmap-row"][data-instance="node-999"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('heatmap-row').count()).toBeLessThan(60);
  });
});
