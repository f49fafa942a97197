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
import { DEFAULT_LEVEL_COLORS, LEVELS, relativeLuminance } from '../src/levels';
import { ARTIFACTS, buildHarness, describeWithChromium, launch, serveHarness } from './browser';
import { NOW, SOURCE_DOWN, degradedSpecs, fleetSpecs, frame, frames as scenarioFrames } from './scenario';
import { expectTooltipInside } from './checks';

const OPTIONS = {
  view: 'heatmap',
  sort: 'worstCurrent',
  metrics: [],
  horizons: [],
  showThresholds: true,
  maxPastColumns: 120,
  levelColors: [...DEFAULT_LEVEL_COLORS],
};

function rgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

/** "rgb(r, g, b)" → "#rrggbb". */
function hex(css: string): string {
  const [r, g, b] = css.match(/\d+/g)!.map(Number);
  return `#${[r, g, b].map((c) => c!.toString(16).padStart(2, '0')).join('')}`;
}

/** The recording's own time range (Prometheus time), as the dashboard that recorded it had. */
const RECORDED = { from: 1795368255_000, to: 1795368383_000 };
/** The hand-built fleet's dashboard range: the last 6 h up to its "now". */
const SCENARIO = { from: (NOW - 6 * 3600) * 1000, to: NOW * 1000 };

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
    await page.waitForFunction(
      () =>
        (window as unknown as { harnessReady?: boolean; pluginModule?: unknown }).harnessReady &&
        (window as unknown as { pluginModule?: unknown }).pluginModule !== undefined
    );
    expect(errors).toEqual([]);
  });
  afterEach(() => page?.close());

  async function mount(
    frames: unknown[],
    options: Record<string, unknown>,
    extra: {
      width?: number;
      height?: number;
      mode?: 'light' | 'dark';
      instance?: string;
      from?: number;
      to?: number;
    } = {}
  ): Promise<void> {
    const range = extra.from !== undefined ? { from: extra.from, to: extra.to } : RECORDED;
    await page.evaluate((r) => (window as unknown as { mount: (x: unknown) => void }).mount(r), {
      frames,
      options,
      width: extra.width ?? 1100,
      height: extra.height ?? 520,
      mode: extra.mode ?? 'light',
      instance: extra.instance,
      ...range,
    });
  }

  test('when the heatmap is drawn, then there is one row per instance and known cells carry their level colours', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const rows = page.getByTestId('heatmap-row');
    await expect(rows.count()).resolves.toBe(20);
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-instance')));
    expect(names.slice(0, 3)).toEqual(['ppdb002', 'ppdi001', 'ppweb003']);
    const colourOf = (instance: string, column: string): Promise<string> =>
      page
        .locator(`[data-instance="${instance}"] [data-testid="heatmap-cell"][data-column="${column}"]`)
        .evaluate((e) => getComputedStyle(e).backgroundColor);
    const nowIndex = await page
      .locator('[data-instance="ppdb002"] [data-predicted="true"]')
      .first()
      .getAttribute('data-column');
    const lastPast = String(Number(nowIndex) - 1);
    await expect(colourOf('ppdb002', lastPast)).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[6]!)); // imminent_failure (91.76)
    const firstOf = (instance: string): Promise<string> =>
      page
        .locator(`[data-instance="${instance}"] [data-testid="heatmap-cell"]`)
        .first()
        .evaluate((e) => getComputedStyle(e).backgroundColor);
    await expect(firstOf('ppcon01')).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[0]!)); // healthy (11.87)
    await expect(colourOf('ppml0001', lastPast)).resolves.toBe(rgb(DEFAULT_LEVEL_COLORS[5]!)); // critical (80)
    await page.getByTestId('heatmap').screenshot({ path: path.join(ARTIFACTS, 'heatmap.png') });
  });

  test('when the heatmap is drawn, then predicted cells exist and all lie right of the "now" line', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const now = (await page.getByTestId('now-line').boundingBox())!;
    const future = page.locator('[data-instance="ppdb002"] [data-predicted="true"]');
    await expect(future.count()).resolves.toBe(7);
    for (const box of await future.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left))) {
      expect(box).toBeGreaterThanOrEqual(now.x);
    }
    const past = await page
      .locator('[data-instance="ppdb002"] [data-predicted="false"]')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    for (const right of past) {
      expect(right).toBeLessThanOrEqual(now.x + now.width);
    }
    await expect(page.getByTestId('predicted-label').textContent()).resolves.toContain('predicted');
  });

  test('when a cell is hovered, then the tooltip shows instance, time, score, level and drivers', async () => {
    await mount(scenarioFrames(fleetSpecs(), []), OPTIONS, SCENARIO);
    const nowIndex = Number(
      await page.locator('[data-instance="ppdb002"] [data-predicted="true"]').first().getAttribute('data-column')
    );
    await page.locator(`[data-instance="ppdb002"] [data-column="${nowIndex - 1}"]`).hover();
    const text = await page.getByTestId('tooltip').innerText();
    expect(text).toContain('ppdb002 (database)');
    expect(text).toContain('2026-12-01 14:00');
    expect(text).toContain('score 74 · danger');
    expect(text).toContain('drivers: disk 41, disk_forecast 15, disk_trend 12');
  });

  test('when a name holds a right-to-left override or is very long, then neighbouring text keeps its order and the tooltip holds the whole name inside the panel', async () => {
    const RTL = 'ppweb\u202Eevil';
    const LONG = `ppra-${'very-long-host-name-'.repeat(8)}end`;
    const specs = [
      ...fleetSpecs(),
      {
        instance: RTL,
        profile: 'web_api',
        score: 90,
        predicted: Object.fromEntries(['30m', '1h', '2h', '3h', '4h', '6h', '8h'].map((h) => [h, 99])),
      },
      { instance: LONG, profile: 'risk_analytics', score: 89 },
    ];
    await mount(scenarioFrames(specs, []), OPTIONS, { ...SCENARIO, width: 700 });
    /** x of the first and last character of the element's last text node, as drawn. */
    const ends = (selector: string): Promise<[number, number]> =>
      page.locator(selector).evaluate((el) => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        let node: Text | undefined;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if ((n.textContent ?? '').trim() !== '') {
            node = n as Text;
          }
        }
        const x = (i: number): number => {
          const r = document.createRange();
          r.setStart(node!, i);
          r.setEnd(node!, i + 1);
          return r.getBoundingClientRect().left;
        };
        const t = node!.textContent!;
        return [x(t.indexOf(t.trim()[0]!)), x(t.length - 1)] as [number, number];
      });
    // the profile beside the name still reads left to right: its first letter left of its last
    const [profileFirst, profileLast] = await ends(`[data-instance="${RTL}"] [data-testid="row-profile"]`);
    expect(profileFirst).toBeLessThan(profileLast);
    // the tooltip's " (web_api)" after the name, too
    await page.locator(`[data-instance="${RTL}"] [data-testid="heatmap-cell"]`).last().hover();
    await expect(page.getByTestId('tooltip-instance').textContent()).resolves.toBe(RTL);
    const [open, close] = await ends('[data-testid="tooltip"] > div:first-child');
    expect(open).toBeLessThan(close);
    // the long name wraps inside the tooltip, whole, and the box stays inside the panel
    await page.mouse.move(0, 0);
    await page.locator(`[data-instance="${LONG}"] [data-testid="heatmap-cell"]`).last().hover();
    const tip = page.getByTestId('tooltip');
    await expect(tip.innerText()).resolves.toContain(`${LONG} (risk_analytics)`);
    const fits = await tip.evaluate((el) => ({ overflowing: el.scrollWidth > el.clientWidth }));
    expect(fits).toEqual({ overflowing: false });
    const box = (await tip.boundingBox())!;
    const panel = (await page.getByTestId('heatmap').boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(panel.x);
    expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width);
    // the cones' summary line (the RTL server is the worst predicted): the text after the name reads left to right as well
    await mount(scenarioFrames(specs, [RTL]), { ...OPTIONS, view: 'both' }, { ...SCENARIO, width: 700, height: 900 });
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toMatch(/^ppweb\u202Eevil · web_api — now /);
    const [restFirst, restLast] = await ends('[data-testid="cone-summary"]');
    expect(restFirst).toBeLessThan(restLast);
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
    await expect(
      memory
        .locator('[data-testid="band"]')
        .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-lower')}-${e.getAttribute('data-upper')}`))
    ).resolves.toEqual(['10-90']);
    const band = (await memory.locator('[data-testid="band"]').boundingBox())!;
    const p50 = (await memory.getByTestId('p50').boundingBox())!;
    // the 2 px p50 stroke may overhang the band by its half-width (and its miter) where the cone opens at "now"
    expect(p50.y).toBeGreaterThanOrEqual(band.y - 3);
    expect(p50.y + p50.height).toBeLessThanOrEqual(band.y + band.height + 3);
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
    for (const [h, rise] of [
      ['30m', 5],
      ['1h', 10],
      ['2h', 20],
    ] as const) {
      for (const [p, d] of Object.entries(spread)) {
        frames.push(
          frame('foresight_forecast', { ...base, horizon: h, percentile: p }, [t], [45 + rise + d * (rise / 10)])
        );
      }
    }
    await mount(frames, { ...OPTIONS, view: 'cones' }, { instance: 'web-1' });
    const bands = page.locator('[data-testid="band"]');
    await expect(
      bands.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-lower')}-${e.getAttribute('data-upper')}`))
    ).resolves.toEqual(['5-95', '10-90', '25-75']);
    const boxes = (await bands.evaluateAll((els) =>
      els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect)
    )) as DOMRect[];
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i]!.top).toBeGreaterThanOrEqual(boxes[i - 1]!.top - 0.5);
      expect(boxes[i]!.bottom).toBeLessThanOrEqual(boxes[i - 1]!.bottom + 0.5);
    }
  });

  test('when label values contain HTML, then they render as text', async () => {
    const evil = '<img src=x onerror="window.pwned=1">';
    const frames = (recorded.heatmap as Array<{ fields: Array<{ labels?: Record<string, string> }> }>).map((f) => ({
      ...f,
      fields: f.fields.map((x) =>
        x.labels?.['instance'] === 'ppdb002'
          ? { ...x, labels: { ...x.labels, instance: evil, profile: '<b>db</b>' } }
          : x
      ),
    }));
    await mount(frames, OPTIONS);
    await expect(
      page.locator(`[data-testid="heatmap-row"] [data-testid="row-instance"]`).first().textContent()
    ).resolves.toBe(evil);
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

  test("when the theme is dark, then the panel draws with the Grafana theme's text colour (useStyles2)", async () => {
    await mount(recorded.heatmap, OPTIONS, { mode: 'light' });
    const light = await page.getByTestId('heatmap').evaluate((e) => getComputedStyle(e).color);
    const lightTheme = await page.evaluate(() => (window as unknown as { themeText: string }).themeText);
    await mount(recorded.heatmap, OPTIONS, { mode: 'dark' });
    const colour = await page.getByTestId('heatmap').evaluate((e) => getComputedStyle(e).color);
    const darkTheme = await page.evaluate(() => (window as unknown as { themeText: string }).themeText);
    // Grafana's theme text colours (rgba strings there), not the panel's own
    const norm = (c: string): string => c.replace(/\s/g, '').replace(/^rgba\((\d+),(\d+),(\d+),1\)$/, 'rgb($1,$2,$3)');
    expect(norm(colour)).toBe(norm(darkTheme));
    expect(norm(light)).toBe(norm(lightTheme));
    expect(relativeLuminance(hex(colour))).toBeGreaterThan(0.5);
    expect(relativeLuminance(hex(light))).toBeLessThan(0.1);
    await page.locator('#panel').screenshot({ path: path.join(ARTIFACTS, 'heatmap-dark.png') });
  });

  test('when there are 1,000 instances, then every row is reachable but only the visible ones are in the page', async () => {
    const t = Date.UTC(2026, 10, 22, 12);
    const frames = Array.from({ length: 1000 }, (_, i) => ({
      name: 'foresight_risk_score',
      length: 12,
      fields: [
        { name: 'Time', type: 'time', config: {}, values: Array.from({ length: 12 }, (_, k) => t + k * 300000) },
        {
          name: 'Value',
          type: 'number',
          config: {},
          labels: { __name__: 'foresight_risk_score', instance: `node-${i}`, profile: 'generic' },
          values: Array.from({ length: 12 }, (_, k) => (i * 7 + k) % 100),
        },
      ],
    }));
    await mount(frames, { ...OPTIONS, sort: 'name' }, { from: t - 3600_000, to: t + 11 * 300000 });
    await expect(page.getByTestId('heatmap').getAttribute('data-rows')).resolves.toBe('1000');
    expect(await page.getByTestId('heatmap-row').count()).toBeLessThan(60);
    await page.getByTestId('heatmap-scroll').evaluate((e) => (e.scrollTop = e.scrollHeight));
    // rows are rendered as they scroll into view
    await page.locator('[data-testid="heatmap-row"][data-instance="node-999"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('heatmap-row').count()).toBeLessThan(60);
  });

  test('when the heatmap is drawn, then the legend names all seven levels in order with their colours, darker as risk rises, and "no data" apart', async () => {
    await mount(recorded.heatmap, OPTIONS);
    const names = await page.getByTestId('legend-name').allInnerTexts();
    expect(names).toEqual([...LEVELS.map((l) => l.display), 'no data']);
    const swatches = await page
      .getByTestId('legend-swatch')
      .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    expect(swatches).toEqual(DEFAULT_LEVEL_COLORS.map(rgb));
    const lum = swatches.map((c) => relativeLuminance(hex(c)));
    for (let i = 1; i < lum.length; i++) {
      expect(lum[i]!).toBeLessThan(lum[i - 1]!);
    }
    // the cells drawn: every level present is darker than every lower level present
    const cells = await page
      .locator('[data-testid="heatmap-cell"]')
      .evaluateAll((els) =>
        els.map((e) => [Number(e.getAttribute('data-level')), getComputedStyle(e).backgroundColor] as const)
      );
    const byLevel = new Map(cells.map(([l, c]) => [l, relativeLuminance(hex(c))]));
    const levels = [...byLevel.keys()].sort();
    expect(levels.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < levels.length; i++) {
      expect(byLevel.get(levels[i]!)!).toBeLessThan(byLevel.get(levels[i - 1]!)!);
    }
    // "no data" is a hatch without fill, never the healthy colour
    const noData = await page
      .locator('[data-testid="legend-item"][data-level="none"] span')
      .first()
      .evaluate((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).backgroundImage]);
    expect(noData[0]).toBe('rgba(0, 0, 0, 0)');
    expect(noData[1]).toContain('repeating-linear-gradient');
  });

  test('when the heatmap is drawn, then the horizons are labelled 30m … 8h, the past has clock-time ticks, "now" is marked, and columns are as wide as their time', async () => {
    await mount(scenarioFrames(fleetSpecs(), []), OPTIONS, SCENARIO);
    await expect(page.getByTestId('horizon-label').allInnerTexts()).resolves.toEqual([
      '30m',
      '1h',
      '2h',
      '3h',
      '4h',
      '6h',
      '8h',
    ]);
    await expect(page.getByTestId('now-label').innerText()).resolves.toBe('now');
    const ticks = await page.getByTestId('time-tick').allInnerTexts();
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    // 6 h before 14:00 UTC: whole hours
    for (const t of ticks) {
      expect(t).toMatch(/^(0[89]|1[0-3]):00$/);
    }
    const widths = await page
      .locator('[data-instance="ppdb002"] [data-predicted="true"]')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width + 1));
    // 30m, 30m, 1h, 1h, 1h, 2h, 2h: a 2 h column is four times a 30 min one
    expect(widths[6]! / widths[0]!).toBeGreaterThan(3.6);
    expect(widths[6]! / widths[0]!).toBeLessThan(4.4);
    expect(widths[2]! / widths[1]!).toBeGreaterThan(1.8);
    await page.locator('#panel').screenshot({ path: path.join(ARTIFACTS, 'heatmap-scenario.png') });
  });

  test('when only five minutes of past exist in a 6 h dashboard range, then they take a sliver of the width, not most of it', async () => {
    const t = NOW * 1000;
    const frame = (name: string, labels: Record<string, string>, times: number[], values: number[]): unknown => ({
      name,
      length: times.length,
      fields: [
        { name: 'Time', type: 'time', config: {}, values: times },
        { name: 'Value', type: 'number', config: {}, labels: { __name__: name, ...labels }, values },
      ],
    });
    const frames = [
      frame('foresight_risk_score', { instance: 'a', profile: 'generic' }, [t - 300_000, t], [20, 30]),
      ...['30m', '1h', '8h'].map((h) =>
        frame('foresight_predicted_risk_score', { instance: 'a', profile: 'generic', horizon: h }, [t], [40])
      ),
    ];
    await mount(frames, OPTIONS, { from: t - 6 * 3600_000, to: t });
    const grid = (await page.locator('[data-testid="row-grid"]').boundingBox())!;
    const past = await page
      .locator('[data-predicted="false"]')
      .evaluateAll((els) => els.reduce((a, e) => a + e.getBoundingClientRect().width, 0));
    expect(past / grid.width).toBeLessThan(0.02);
    expect(past).toBeGreaterThan(0);
  });

  test('when a server is selected, its row is highlighted; with none selected, the worst predicted row is, and the cones show it', async () => {
    const specs = fleetSpecs();
    const all = specs.map((x) => x.instance);
    await mount(
      scenarioFrames(specs, all),
      { ...OPTIONS, view: 'both' },
      { ...SCENARIO, instance: 'ppweb001', height: 900 }
    );
    const selected = page.locator('[data-testid="heatmap-row"][data-selected="true"]');
    await expect(selected.getAttribute('data-instance')).resolves.toBe('ppweb001');
    // a 2 px frame drawn above the row's cells, on that row only
    await expect(
      selected
        .getByTestId('selected-outline')
        .evaluate((e) => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).borderTopWidth])
    ).resolves.toEqual(['solid', '2px']);
    await expect(page.getByTestId('selected-outline').count()).resolves.toBe(1);
    await expect(
      page.getByTestId('cone').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-instance')))])
    ).resolves.toEqual(['ppweb001']);
    // no selection (variable unset): ppdb002, the worst predicted server, is highlighted and in the cones
    await mount(scenarioFrames(specs, all), { ...OPTIONS, view: 'both' }, { ...SCENARIO, height: 900 });
    await expect(selected.getAttribute('data-instance')).resolves.toBe('ppdb002');
    await expect(
      page.getByTestId('cone').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-instance')))])
    ).resolves.toEqual(['ppdb002']);
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toBe(
      'ppdb002 · database — now Danger (74) · predicted Imminent Failure (91) by +1h · the worst predicted server (click a row for another)'
    );
  });

  test('when the ranking changes, then the cones move to the new worst server and never show the empty message', async () => {
    const all = fleetSpecs().map((x) => x.instance);
    await mount(
      scenarioFrames(fleetSpecs('critical'), all),
      { ...OPTIONS, view: 'both' },
      { ...SCENARIO, height: 900 }
    );
    await expect(page.locator('[data-testid="cone"]').first().getAttribute('data-instance')).resolves.toBe('ppdb002');
    await mount(
      scenarioFrames(fleetSpecs('ranking-changed'), all),
      { ...OPTIONS, view: 'both' },
      { ...SCENARIO, height: 900 }
    );
    await expect(
      page.getByTestId('cone').evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-instance')))])
    ).resolves.toEqual(['ppweb001']);
    await expect(page.getByTestId('message').count()).resolves.toBe(0);
    await expect(page.getByTestId('cone-state').count()).resolves.toBe(0);
    // the heatmap itself is still sorted by the current level (the option), with ppweb001 on top
    await expect(page.getByTestId('heatmap-row').first().getAttribute('data-instance')).resolves.toBe('ppweb001');
  });

  test('when a cell at the right edge is hovered, then the tooltip box stays inside the panel and the viewport', async () => {
    await mount(recorded.heatmap, OPTIONS, { width: 1100 });
    await expect(expectTooltipInside(page)).resolves.toContain('predicted for now + 8h');
  });

  test('when the cones are drawn, then each chart has y ticks in its unit, time ticks from −24h to +8h, named thresholds, the breach time and a legend', async () => {
    await mount(
      scenarioFrames(fleetSpecs(), ['ppdb002']),
      { ...OPTIONS, view: 'cones' },
      { ...SCENARIO, instance: 'ppdb002', width: 1200, height: 700 }
    );
    const chart = (metric: string): ReturnType<Page['locator']> =>
      page.locator(`[data-testid="cone"][data-metric="${metric}"]`);
    for (const m of ['cpu', 'memory', 'disk', 'iowait']) {
      const ticks = await chart(m).getByTestId('y-tick').allTextContents();
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      for (const t of ticks) {
        expect(t).toMatch(/^\d+(\.\d+)?%$/);
      }
    }
    for (const t of await chart('network').getByTestId('y-tick').allTextContents()) {
      expect(t).toMatch(/^\d+(\.\d+)? [kMG]?B\/s$/);
    }
    for (const t of await chart('load').getByTestId('y-tick').allTextContents()) {
      expect(t).toMatch(/^\d+(\.\d+)?$/);
    }
    const x = await chart('disk').getByTestId('x-tick').allTextContents();
    expect(x[0]).toBe('−24h');
    expect(x).toContain('now');
    expect(x[x.length - 1]).toBe('+8h');
    // database disk: warning 80 %, critical 90 %; the p50 crosses 90 % in about 40 min
    await expect(chart('disk').getByTestId('threshold-label').allTextContents()).resolves.toEqual([
      'warning 80%',
      'critical 90%',
    ]);
    await expect(chart('disk').getByTestId('breach-label').textContent()).resolves.toMatch(
      /^critical in (3\dm|4\dm) \(14:\d\d\)$/
    );
    await expectBreachLabelClear(chart('disk'));
    // memory's warning 99.5 % and critical 99.9 % lines nearly touch: their labels still do not touch
    const [warning, critical] = await chart('memory')
      .getByTestId('threshold-label')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    expect(Math.max(critical!.top, warning!.top) - Math.min(critical!.bottom, warning!.bottom)).toBeGreaterThanOrEqual(
      1
    );
    // each chart's labels lie inside its own frame
    const frame = (await chart('disk').boundingBox())!;
    for (const b of await chart('disk')
      .locator('text')
      .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
      expect(b.top).toBeGreaterThanOrEqual(frame.y - 0.5);
      expect(b.bottom).toBeLessThanOrEqual(frame.y + frame.height + 0.5);
      expect(b.left).toBeGreaterThanOrEqual(frame.x - 0.5);
      expect(b.right).toBeLessThanOrEqual(frame.x + frame.width + 0.5);
    }
    const legend = await page.getByTestId('cone-legend').innerText();
    expect(legend).toContain('p10–p90 band');
    expect(legend).toContain('p50 forecast');
    expect(legend).toContain('history');
    await page.getByTestId('cones').screenshot({ path: path.join(ARTIFACTS, 'cones-scenario.png') });
  });

  test('when a metric is already over critical (time to breach 0), then its label says so now, not as a countdown', async () => {
    const specs = fleetSpecs().map((x) =>
      x.instance === 'ppdb002' && x.driver ? { ...x, driver: { ...x.driver, before: 80, now: 93, perHour: 0 } } : x
    );
    const breach = frame(
      'foresight_time_to_breach_seconds',
      { instance: 'ppdb002', profile: 'database', metric: 'disk', percentile: '50' },
      [NOW],
      [0]
    );
    await mount(
      [...scenarioFrames(specs, ['ppdb002']), breach],
      { ...OPTIONS, view: 'cones' },
      { ...SCENARIO, instance: 'ppdb002', width: 1200, height: 700 }
    );
    const disk = page.locator('[data-testid="cone"][data-metric="disk"]');
    await expect(disk.getByTestId('breach-label').textContent()).resolves.toBe('at critical now');
    await expectBreachLabelClear(disk);
  });

  test('when the critical line is near the top of a chart, then the breach label goes below it, clear of the line and the dot', async () => {
    // a disk that climbed from empty: its axis runs from 0 %, so the 90 % line is just under the title
    const specs = fleetSpecs().map((x) =>
      x.instance === 'ppdb002' && x.driver ? { ...x, driver: { ...x.driver, before: 0 } } : x
    );
    await mount(
      scenarioFrames(specs, ['ppdb002']),
      { ...OPTIONS, view: 'cones' },
      { ...SCENARIO, instance: 'ppdb002', width: 1200, height: 700 }
    );
    const disk = page.locator('[data-testid="cone"][data-metric="disk"]');
    await expect(disk.getByTestId('y-tick').first().textContent()).resolves.toBe('0%');
    await expect(disk.getByTestId('breach-label').textContent()).resolves.toMatch(/^critical in /);
    const [label, line] = await Promise.all([
      disk.getByTestId('breach-label').boundingBox(),
      disk.getByTestId('threshold-critical').boundingBox(),
    ]);
    expect(label!.y).toBeGreaterThan(line!.y);
    await expectBreachLabelClear(disk);
    await disk.screenshot({ path: path.join(ARTIFACTS, 'cone-breach-near-top.png') });
  });

  test('when the selected server has too little history, then its cones say so instead of an empty area', async () => {
    await mount(
      scenarioFrames(fleetSpecs(), ['ppsrv001']),
      { ...OPTIONS, view: 'cones' },
      { ...SCENARIO, instance: 'ppsrv001' }
    );
    await expect(page.getByTestId('cone-state').innerText()).resolves.toContain(
      'ppsrv001: too little history for a forecast yet'
    );
    await expect(page.getByTestId('message').count()).resolves.toBe(0);
  });

  test('when foresight_source_up is 0, then a banner names the source, since when it is down and the last success', async () => {
    await mount(scenarioFrames(fleetSpecs(), [], SOURCE_DOWN), OPTIONS, {
      from: (NOW - 6 * 3600) * 1000,
      to: (NOW + 600) * 1000,
    });
    const text = await page.getByTestId('source-down').innerText();
    expect(text).toContain(
      'Source down: Prometheus at http://prometheus.example:9090 is not answering since 2026-12-01 14:02 (8 min ago).'
    );
    expect(text).toContain('Last successful read: 2026-12-01 14:00 (10 min ago)');
    await expect(page.getByTestId('heatmap-row').count()).resolves.toBe(20);
  });
  test('when one server is stale and one unknown, then the stale row is marked stale with its last data, keeps its colour under stripes, and the unknown row says unknown and is never coloured', async () => {
    await mount(
      scenarioFrames(degradedSpecs(), ['ppml0003']),
      { ...OPTIONS, view: 'both' },
      { ...SCENARIO, instance: 'ppml0003', height: 900 }
    );
    const row = (instance: string): ReturnType<Page['locator']> =>
      page.locator(`[data-testid="heatmap-row"][data-instance="${instance}"]`);
    // the badge beside the right name, and what it means on hover
    await expect(row('ppml0003').getByTestId('row-state').innerText()).resolves.toBe('stale');
    await expect(row('ppml0003').getByTestId('row-state').getAttribute('title')).resolves.toBe(
      'stale: last data at 2026-12-01 13:40 (20 min ago); showing its last good risk and forecasts'
    );
    await expect(page.getByTestId('row-state').count()).resolves.toBe(2);
    // the stale server's current cell: still its level's colour (warning, 63), with the stale stripes
    const nowIndex = Number(
      await row('ppdb002').locator('[data-predicted="true"]').first().getAttribute('data-column')
    );
    const current = row('ppml0003').locator(`[data-testid="heatmap-cell"][data-column="${nowIndex - 1}"]`);
    await expect(current.getAttribute('data-stale')).resolves.toBe('true');
    const style = await current.evaluate((e) => ({
      color: getComputedStyle(e).backgroundColor,
      image: getComputedStyle(e).backgroundImage,
    }));
    expect(style.color).toBe(rgb(DEFAULT_LEVEL_COLORS[3]!));
    expect(style.image).toContain('repeating-linear-gradient');
    await expect(row('ppml0003').locator('[data-predicted="true"][data-stale="true"]').count()).resolves.toBe(7);
    // a fresh server's cells are not marked
    await expect(row('ppdb002').locator('[data-stale="true"]').count()).resolves.toBe(0);
    await current.hover();
    await expect(page.getByTestId('tooltip').innerText()).resolves.toContain(
      'stale: last data at 2026-12-01 13:40 (20 min ago)'
    );
    await page.mouse.move(0, 0);
    // the legend explains both marks
    const names = await page.getByTestId('legend-name').allInnerTexts();
    expect(names.slice(-2)).toEqual(['no data / unknown', 'stale (last good data)']);
    // the unknown server: first in the worst-now order, labelled, no cell now or ahead (never the healthy colour)
    await expect(page.getByTestId('heatmap-row').first().getAttribute('data-instance')).resolves.toBe('ppra001');
    await expect(row('ppra001').getByTestId('row-state').innerText()).resolves.toBe('unknown');
    await expect(row('ppra001').getByTestId('row-unknown').innerText()).resolves.toBe(
      'unknown: no current data or forecast'
    );
    const columns = await row('ppra001')
      .getByTestId('heatmap-cell')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-column'))));
    expect(Math.max(...columns)).toBeLessThan(nowIndex - 4); // its scores end at 13:20
    // the cones of the stale server say how old their data is
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toMatch(
      /^ppml0003 · ml_compute — stale: last data at 2026-12-01 13:40 \(20 min ago\) — last good Warning \(63\)/
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel-stale-unknown.png') });
  });

  test('when the unknown server is selected, then its cones say there is no current forecast instead of drawing nothing', async () => {
    await mount(
      scenarioFrames(degradedSpecs(), ['ppra001']),
      { ...OPTIONS, view: 'both' },
      { ...SCENARIO, instance: 'ppra001', height: 700 }
    );
    await expect(page.getByTestId('cone-summary').innerText()).resolves.toBe(
      'ppra001 · risk_analytics — unknown: last data at 2026-12-01 13:20 (40 min ago); no current forecast · selected'
    );
    await expect(page.getByTestId('cone-state').innerText()).resolves.toContain(
      'ppra001: unknown: its data has been missing or bad'
    );
    await expect(page.getByTestId('cone').count()).resolves.toBe(0);
  });
  test('when a cones-only panel shows a stale server, then a line above its cones says when its data stopped', async () => {
    // what the dashboards' cone panels query: no risk scores, so no heatmap to summarise from
    const CONE_PANEL = [
      'foresight_metric_value',
      'foresight_forecast',
      'foresight_instance_ready',
      'foresight_instance_stale',
      'foresight_instance_unknown',
      'foresight_time_to_breach_seconds',
    ];
    const coneFrames = scenarioFrames(degradedSpecs(), ['ppml0003']).filter((f) => CONE_PANEL.includes(f.name));
    await mount(coneFrames, { ...OPTIONS, view: 'cones' }, { ...SCENARIO, instance: 'ppml0003', height: 700 });
    await expect(page.getByTestId('cone-stale').innerText()).resolves.toBe(
      'ppml0003: stale: last data at 13:40 (20 min ago); these are its last good forecasts'
    );
    await expect(page.getByTestId('cone').count()).resolves.toBe(6);
  });
});

/** The breach label crosses neither threshold line nor the breach dot (any would strike through its text). */
async function expectBreachLabelClear(chart: ReturnType<Page['locator']>): Promise<void> {
  const g = await chart.evaluate((svg) => {
    const box = (e: Element | null): DOMRect => e!.getBoundingClientRect().toJSON() as DOMRect;
    return {
      label: box(svg.querySelector('[data-testid="breach-label"]')),
      dot: box(svg.querySelector('[data-testid="breach"] circle')),
      lines: ['critical', 'warning'].map((t) => box(svg.querySelector(`[data-testid="threshold-${t}"]`)).y),
    };
  });
  for (const line of g.lines) {
    expect(g.label.bottom <= line || g.label.top >= line).toBe(true);
  }
  expect(g.label.bottom <= g.dot.top || g.label.top >= g.dot.bottom).toBe(true);
}
