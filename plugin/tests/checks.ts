/**
 * What a person reads on the heatmap and cones, as checks shared by the panel and preview tests:
 * the legend, the time axis, the order of the colours, the tooltip's box, which server the cones
 * show.
 */
import type { Page } from 'playwright-core';
import { LEVELS, relativeLuminance } from '../src/levels';

/** "rgb(r, g, b)" → "#rrggbb". */
export function hex(css: string): string {
  const [r, g, b] = css.match(/\d+/g)!.map(Number);
  return `#${[r, g, b].map((c) => c!.toString(16).padStart(2, '0')).join('')}`;
}

/** The legend names the seven levels in order (then "no data"), and its colours darken as risk rises. */
export async function expectLegend(page: Page): Promise<void> {
  await expect(page.getByTestId('legend-name').allInnerTexts()).resolves.toEqual([
    ...LEVELS.map((l) => l.display),
    'no data',
  ]);
  const swatches = await page
    .getByTestId('legend-swatch')
    .evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
  const lum = swatches.map((c) => relativeLuminance(hex(c)));
  expect(lum).toHaveLength(7);
  for (let i = 1; i < lum.length; i++) {
    expect(lum[i]!).toBeLessThan(lum[i - 1]!);
  }
}

/** Horizon labels 30m … 8h, "now", and clock-time ticks over the past. */
export async function expectTimeAxis(page: Page): Promise<void> {
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
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  for (const t of ticks) {
    expect(t).toMatch(/^\d\d:\d\d$/);
  }
}

/** Hovers the right-most cell of the first row, checks the tooltip's box lies inside the viewport and the heatmap, and returns its text. */
export async function expectTooltipInside(page: Page): Promise<string> {
  const cell = page.locator('[data-testid="heatmap-row"]').first().locator('[data-predicted="true"]').last();
  const box = (await cell.boundingBox())!;
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
  const tip = (await page.getByTestId('tooltip').boundingBox())!;
  const panel = (await page.getByTestId('heatmap').boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(tip.x).toBeGreaterThanOrEqual(Math.max(0, panel.x));
  expect(tip.x + tip.width).toBeLessThanOrEqual(Math.min(viewport.width, panel.x + panel.width));
  expect(tip.y).toBeGreaterThanOrEqual(0);
  expect(tip.y + tip.height).toBeLessThanOrEqual(viewport.height);
  const text = await page.getByTestId('tooltip').innerText();
  await page.mouse.move(0, 0);
  return text;
}

/** The instances the cones show (distinct, in order). */
export function coneInstances(page: Page): Promise<string[]> {
  return page
    .getByTestId('cone')
    .evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-instance') ?? ''))]);
}

/**
 * The highlighted row's instance (undefined when none is), and its outline must be drawn. Read in
 * one evaluation in the page: the live preview re-renders every cycle, and a row found by one call
 * could be replaced before the next read its style (seen as an empty border style).
 */
export async function selectedRow(page: Page): Promise<string | undefined> {
  const found = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('[data-testid="heatmap-row"][data-selected="true"]')];
    const outline = rows[0]?.querySelector('[data-testid="selected-outline"]');
    return {
      count: rows.length,
      instance: rows[0]?.getAttribute('data-instance') ?? undefined,
      border: outline ? getComputedStyle(outline).borderTopStyle : 'no outline',
    };
  });
  if (found.count !== 1) {
    return undefined;
  }
  expect(found.border).toBe('solid');
  return found.instance;
}
