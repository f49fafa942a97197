/**
 * Real-browser plumbing for the plugin's tests: Debian's Chromium driven by playwright-core, the
 * harness bundle (tests/harness/entry.tsx) and the built dist/module.js served from loopback.
 * Without Chromium the tests skip with the reason, unless FORESIGHT_REQUIRE_INTEGRATION=1 (CI),
 * where they fail.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const PLUGIN = path.join(__dirname, '..');
export const ARTIFACTS = path.join(PLUGIN, 'test-artifacts');
export const CHROMIUM = process.env['FORESIGHT_CHROMIUM'] ?? '/usr/bin/chromium';

/** `describe` when Chromium is here; otherwise a skip with the reason (or a failure in CI). */
export function describeWithChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, fn);
    return;
  }
  const reason = `${CHROMIUM} not found (apt-get install -y chromium)`;
  if (process.env['FORESIGHT_REQUIRE_INTEGRATION'] === '1') {
    describe(name, () =>
      test(`requires Chromium: ${reason}`, () => {
        throw new Error(`FORESIGHT_REQUIRE_INTEGRATION=1 but ${reason}`);
      })
    );
    return;
  }
  console.log(`skipping "${name}": ${reason}`);
  describe.skip(name, fn);
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** Builds the harness bundle (React, @grafana/data, @grafana/ui) once per run. */
export function buildHarness(): string {
  const out = path.join(ARTIFACTS, 'harness', 'harness.js');
  execFileSync(
    process.execPath,
    [require.resolve('webpack-cli/bin/cli.js'), '-c', path.join(PLUGIN, 'tests', 'harness', 'webpack.config.ts')],
    { cwd: PLUGIN, stdio: 'pipe' }
  );
  return out;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>harness</title>
<style>body{margin:0;font-family:sans-serif}#panel{width:fit-content}</style></head>
<body><div id="panel"></div><script src="/harness.js"></script><script src="/module.js"></script></body></html>`;

/** Serves the harness page, its bundle and the plugin's built dist/module.js. */
export async function serveHarness(harnessJs: string): Promise<{ url: string; close: () => Promise<void> }> {
  const module = path.join(PLUGIN, 'dist', 'module.js');
  if (!existsSync(module)) {
    throw new Error(`${module} is missing: run npm run build in plugin/ first`);
  }
  const files: Record<string, [string, string]> = {
    '/': [PAGE, 'text/html'],
    '/harness.js': [readFileSync(harnessJs, 'utf8'), 'text/javascript'],
    '/module.js': [readFileSync(module, 'utf8'), 'text/javascript'],
  };
  const server = http.createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1] }).end(f[0]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}
