/**
 * Fleet scenarios through the running sidecar (embedded simulator, shipped model, risk engine),
 * on a driven clock: a simulated day of cycles in seconds.
 */
import path from 'node:path';
import { parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const START = Date.UTC(2026, 10, 18, 0, 0, 0) / 1000; // a Wednesday, 00:00 UTC

interface FleetRow {
  instance: string;
  level: number;
  severity: string;
  ready: boolean;
}

async function fleetApp(clock: { t: number }): Promise<App> {
  const loaded = await parseConfig({ listen: '127.0.0.1:0', source: { type: 'simulator', interval: '24h' }, model: { device: 'cpu' } }, 'test');
  const app = createApp({ loaded, repoRoot: REPO, now: () => clock.t, log: () => undefined });
  await app.start();
  return app;
}

async function fleet(app: App): Promise<FleetRow[]> {
  return ((await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as { instances: FleetRow[] }).instances;
}

async function switchScenario(app: App, name: string): Promise<void> {
  const res = await fetch(`${app.address()}/simulator/scenario`, { method: 'POST', body: name });
  expect(res.status).toBe(200);
}

describe('fleet scenarios through the sidecar', () => {
  test('when the fleet is healthy for a simulated day, then no server is ever critical or worse', async () => {
    const clock = { t: START };
    const app = await fleetApp(clock);
    try {
      let worst = 0;
      for (let k = 0; k < 48; k++) {
        clock.t = START + k * 1800;
        await app.runCycle();
        const rows = await fleet(app);
        expect(rows.every((r) => r.ready)).toBe(true);
        worst = Math.max(worst, ...rows.map((r) => r.level));
      }
      expect(worst).toBeLessThan(5);
    } finally {
      await app.stop();
    }
  });

  test('when a quarter of the fleet degrades, then 4–7 of 20 are at degrading or worse', async () => {
    const clock = { t: START + 10 * 3600 };
    const app = await fleetApp(clock);
    try {
      await switchScenario(app, 'degrading');
      for (const minutes of [20, 40, 60, 75, 90]) {
        clock.t = START + 10 * 3600 + minutes * 60;
        await app.runCycle();
      }
      const n = (await fleet(app)).filter((r) => r.level >= 2).length;
      expect(n).toBeGreaterThanOrEqual(4);
      expect(n).toBeLessThanOrEqual(7);
    } finally {
      await app.stop();
    }
  });

  test('when half of the fleet goes critical, then at least 9 of 20 are at critical or worse', async () => {
    const clock = { t: START + 10 * 3600 };
    const app = await fleetApp(clock);
    try {
      await switchScenario(app, 'critical');
      for (const minutes of [10, 20, 30, 45]) {
        clock.t = START + 10 * 3600 + minutes * 60;
        await app.runCycle();
      }
      const rows = await fleet(app);
      expect(rows.filter((r) => r.level >= 5).length).toBeGreaterThanOrEqual(9);
    } finally {
      await app.stop();
    }
  });
});
