/**
 * Regenerates the README screenshots: `npm run screenshots` (in plugin/, after `npm run build`).
 *
 * Default: the built panel (dist/module.js) in Chromium, through the browser tests' harness, on
 * the hand-built critical moment of tests/scenario.ts — src/img/screenshot-heatmap.png (the
 * heatmap) and src/img/screenshot-cones.png (the worst server's cones), which both the plugin's
 * catalogue page and the repository README show, and docs/img/critical.png (the whole panel).
 *
 * `--live http://127.0.0.1:9464`: the same three from a running sidecar's preview page instead
 * (e.g. a minute or two after `curl -XPOST …/simulator/scenario -d critical`).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { PLUGIN, buildHarness, launch, serveHarness } from './browser';
import { NOW, fleetSpecs, frames } from './scenario';
import { DEFAULT_LEVEL_COLORS } from '../src/levels';

const DOCS = path.join(PLUGIN, '..', 'docs', 'img');
const HEATMAP = path.join(PLUGIN, 'src', 'img', 'screenshot-heatmap.png');
const CONES = path.join(PLUGIN, 'src', 'img', 'screenshot-cones.png');
const OPTIONS = {
  view: 'both',
  sort: 'worstCurrent',
  metrics: [],
  horizons: [],
  showThresholds: true,
  maxPastColumns: 72,
  levelColors: [...DEFAULT_LEVEL_COLORS],
};

async function fromHarness(page: Page): Promise<void> {
  const server = await serveHarness(buildHarness());
  try {
    await page.goto(server.url);
    await page.waitForFunction(
      () =>
        (window as unknown as { harnessReady?: boolean; pluginModule?: unknown }).harnessReady &&
        (window as unknown as { pluginModule?: unknown }).pluginModule !== undefined
    );
    const specs = fleetSpecs();
    const range = { from: (NOW - 6 * 3600) * 1000, to: NOW * 1000 };
    const mount = (r: Record<string, unknown>): Promise<void> =>
      page.evaluate((x) => (window as unknown as { mount: (m: unknown) => void }).mount(x), {
        mode: 'light',
        ...range,
        ...r,
      });
    await mount({
      frames: frames(specs, ['ppdb002']),
      options: { ...OPTIONS, view: 'heatmap' },
      width: 1200,
      height: 520,
    });
    await page.locator('#panel').screenshot({ path: HEATMAP });
    await mount({
      frames: frames(specs, ['ppdb002']),
      options: { ...OPTIONS, view: 'cones' },
      width: 1200,
      height: 470,
    });
    await page.locator('#panel').screenshot({ path: CONES });
    await mount({ frames: frames(specs, ['ppdb002']), options: OPTIONS, width: 1200, height: 1000 });
    await page.locator('#panel').screenshot({ path: path.join(DOCS, 'critical.png') });
  } finally {
    await server.close();
  }
}

async function fromLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('cone').first().waitFor({ timeout: 60_000 });
  await page.getByTestId('heatmap').screenshot({ path: HEATMAP });
  // the cones' area is as tall as the page leaves it: crop to the charts
  const area = (await page.getByTestId('cones').boundingBox())!;
  const last = (await page.getByTestId('cone').last().boundingBox())!;
  await page.screenshot({
    path: CONES,
    clip: { x: area.x, y: area.y, width: area.width, height: last.y + last.height - area.y + 4 },
  });
  await page.screenshot({ path: path.join(DOCS, 'critical.png'), fullPage: true });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--live');
  const live = i >= 0 ? process.argv[i + 1] : undefined;
  if (i >= 0 && !live) {
    throw new Error('--live needs the sidecar URL, e.g. --live http://127.0.0.1:9464');
  }
  mkdirSync(DOCS, { recursive: true });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await (live ? fromLive(page, live) : fromHarness(page));
  } finally {
    await browser.close();
  }
  console.log(`wrote ${[HEATMAP, CONES, path.join(DOCS, 'critical.png')].join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
