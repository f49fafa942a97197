/**
 * The embedded default as a demo (what `npm start` serves): the simulated fleet, the shipped
 * model through onnxruntime-node and the risk engine, on a driven clock so the cycles do not
 * depend on how busy the machine is. Each cycle is one 5-minute step, which the embedded
 * default's clock (60x) runs every 5 s of wall time.
 */
import path from 'node:path';
import { EMBEDDED_BUILD_UP, EMBEDDED_SPEED, loadConfig, parseConfig } from '../src/config/load';
import { createApp } from '../src/app/app';
import type { App } from '../src/app/app';
import { levelOf } from '../src/risk/levels';

jest.setTimeout(300_000);

const REPO = path.join(__dirname, '..', '..');
// a fixed instant (a Tuesday, 09:00 UTC) so the fleet's daily cycles are the same on every run
const START = Date.UTC(2026, 10, 17, 9, 0, 0) / 1000;
const STEP = 300;
/** Wall-clock budget the demo promises between the switch and the first foreseen warning. */
const DEMO_WALL_SECONDS = 120;

interface FleetJson {
  origin: number;
  instances: Array<{ instance: string; score: number; level: number; predicted: Record<string, number>; recent: Array<[number, number]> }>;
  source: unknown;
}

async function fleet(app: App): Promise<FleetJson> {
  return (await (await fetch(`${app.address()}/api/v1/fleet`)).json()) as FleetJson;
}

/** The embedded default, with cycles run by the test instead of a timer. */
async function demoApp(clock: { t: number }): Promise<App> {
  const loaded = await parseConfig(
    {
      listen: '127.0.0.1:0',
      source: { type: 'simulator', interval: '24h', simulator: { speed: EMBEDDED_SPEED, build_up: EMBEDDED_BUILD_UP } },
      model: { device: 'cpu' },
    },
    'test',
  );
  const app = createApp({ loaded, repoRoot: REPO, now: () => clock.t, log: () => undefined });
  await app.start();
  return app;
}

describe('the embedded default as a demo', () => {
  test('when there is no config, then the simulated fleet runs on a 60x clock with scenarios that build up over 4 h', async () => {
    const { config } = await loadConfig(undefined, {});
    expect(config.source.simulator).toMatchObject({ speed: 60, build_up: 4 * 3600 });
    // a Prometheus source keeps real time: the simulator's clock is not used for it
    const prom = await loadConfig(undefined, { FORESIGHT_PROMETHEUS_URL: 'http://prometheus:9090' });
    expect(prom.config.source.type).toBe('prometheus');
  });

  test('when it starts, then every server already has past risk columns from the history it read, one per step up to now', async () => {
    const clock = { t: START };
    const app = await demoApp(clock);
    try {
      const f = await fleet(app);
      expect(f.instances).toHaveLength(20);
      for (const i of f.instances) {
        expect(i.recent).toHaveLength(72);
        expect(i.recent.map(([t]) => t)).toEqual(Array.from({ length: 72 }, (_, k) => f.origin - (71 - k) * STEP));
        // the newest is this cycle's own score
        expect(i.recent[71]![1]).toBe(i.score);
      }
      // a calm fleet's past is calm: scored from real history, not filled with a constant
      const past = f.instances.flatMap((i) => i.recent.slice(0, 71).map(([, s]) => s));
      expect(Math.max(...past)).toBeLessThan(60);
      expect(new Set(past).size).toBeGreaterThan(100);
    } finally {
      await app.stop();
    }
  });

  test('when cycles were skipped (a cycle outran the step), then the past has no hole: the missed steps are scored from the history read', async () => {
    const clock = { t: START };
    const app = await demoApp(clock);
    try {
      clock.t += 4 * STEP; // three steps pass with no cycle
      await app.runCycle();
      const f = await fleet(app);
      for (const i of f.instances) {
        expect(i.recent).toHaveLength(72);
        expect(i.recent.map(([t]) => t)).toEqual(Array.from({ length: 72 }, (_, k) => f.origin - (71 - k) * STEP));
        expect(i.recent[71]![1]).toBe(i.score);
      }
    } finally {
      await app.stop();
    }
  });

  test('when the fleet is switched to critical, then a predicted column reaches warning before the current one does, within two minutes of demo time', async () => {
    const clock = { t: START };
    const app = await demoApp(clock);
    const wallStart = Date.now();
    try {
      for (let k = 1; k <= 2; k++) {
        clock.t = START + k * STEP;
        await app.runCycle();
      }
      const switchedAt = clock.t;
      const res = await fetch(`${app.address()}/simulator/scenario`, { method: 'POST', body: 'critical' });
      expect(res.status).toBe(200);
      const wallSwitch = Date.now();
      // per server: the first cycle whose predicted columns / current column are at warning or worse
      const first = new Map<string, { predicted?: number; current?: number; wallPredicted?: number }>();
      const cycles = (DEMO_WALL_SECONDS * EMBEDDED_SPEED) / STEP;
      for (let k = 1; k <= cycles; k++) {
        clock.t = switchedAt + k * STEP;
        await app.runCycle();
        const f = await fleet(app);
        expect(f.origin).toBe(clock.t);
        for (const i of f.instances) {
          const e = first.get(i.instance) ?? {};
          // as the heatmap draws them: levels of the predicted scores, and of the current score (held by hysteresis)
          const predicted = Math.max(...Object.values(i.predicted).map(levelOf));
          const current = Math.max(levelOf(i.score), i.level);
          if (predicted >= 3 && e.predicted === undefined) {
            e.predicted = k;
            e.wallPredicted = (Date.now() - wallSwitch) / 1000;
          }
          if (current >= 3 && e.current === undefined) e.current = k;
          first.set(i.instance, e);
        }
      }
      const leads = [...first].filter(([, e]) => e.predicted !== undefined && (e.current === undefined || e.predicted < e.current));
      const minutes = (k: number | undefined): string =>
        k === undefined ? 'not within the run' : `${(k * STEP) / 60} simulated min (${(k * STEP) / EMBEDDED_SPEED} s at ${EMBEDDED_SPEED}x)`;
      process.stdout.write(
        `switch to critical at ${new Date(switchedAt * 1000).toISOString()}; ${cycles} cycles in ${((Date.now() - wallStart) / 1000).toFixed(1)} s of test time\n` +
          [...first]
            .filter(([, e]) => e.predicted !== undefined || e.current !== undefined)
            .map(
              ([i, e]) =>
                `  ${i}: predicted warning+ after ${minutes(e.predicted)}, current warning+ after ${minutes(e.current)}${leads.some(([l]) => l === i) ? '  <- foreseen' : ''}`,
            )
            .join('\n') +
          '\n',
      );
      expect(leads.length).toBeGreaterThanOrEqual(1);
    } finally {
      await app.stop();
    }
  });
});
