import { METRIC_NAMES } from '../src/profiles/profiles';
import { DEFAULT_FLEET } from '../src/simulator/fleet';
import { Simulation } from '../src/simulator/simulation';
import { SimulatorSource } from '../src/source/simulator';

jest.setTimeout(120_000);

const END = 1_790_000_000 - (1_790_000_000 % 3600);
const source = (): SimulatorSource => new SimulatorSource(new Simulation({ fleet: DEFAULT_FLEET, seed: 3, scenario: 'healthy' }), END - 10 * 86400);

describe('simulator source', () => {
  test('when a day of 5-minute history and a week of hourly samples are read every cycle, then the cache holds one window per step instead of growing', async () => {
    const s = source();
    const last = END + 15 * 300;
    for (let end = END; end <= last; end += 300) {
      await s.fetch(end - (end % 3600), 169, 3600);
      await s.fetch(end, 289, 300);
    }
    // the instants of the last two reads, once each (the hourly ones of the last day are in both)
    const instants = new Set([
      ...Array.from({ length: 169 }, (_, k) => last - (last % 3600) - k * 3600),
      ...Array.from({ length: 289 }, (_, k) => last - k * 300),
    ]);
    expect(instants.size).toBeLessThan(169 + 289);
    expect(s.cachedInstants).toBe(instants.size);
  });

  test('when a read reuses what earlier reads cached, then it gives what a fresh source reads', async () => {
    const s = source();
    await s.fetch(END, 289, 300);
    await s.fetch(END, 169, 3600);
    const later = await s.fetch(END + 900, 289, 300);
    const fresh = await source().fetch(END + 900, 289, 300);
    for (const [instance, metrics] of fresh.instances)
      for (const m of METRIC_NAMES) expect([instance, m, Array.from(later.instances.get(instance)![m]!)]).toEqual([instance, m, Array.from(metrics[m]!)]);
  });

  test('when the scenario switches after a read, then the next read gives what a fresh source with that switch reads', async () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 3, scenario: 'healthy' });
    const s = new SimulatorSource(sim, END - 10 * 86400);
    await s.fetch(END, 289, 300);
    // the switch takes effect two hours before the next read's end: inside what the first read holds
    sim.switchScenario('critical', END - 7200);
    const later = await s.fetch(END + 300, 289, 300);
    const other = new Simulation({ fleet: DEFAULT_FLEET, seed: 3, scenario: 'healthy' });
    other.switchScenario('critical', END - 7200);
    const fresh = await new SimulatorSource(other, END - 10 * 86400).fetch(END + 300, 289, 300);
    const healthy = await source().fetch(END + 300, 1, 300);
    let changed = 0;
    for (const [instance, metrics] of fresh.instances)
      for (const m of METRIC_NAMES) {
        expect([instance, m, Array.from(later.instances.get(instance)![m]!)]).toEqual([instance, m, Array.from(metrics[m]!)]);
        if (metrics[m]![288] !== healthy.instances.get(instance)![m]![0]) changed++;
      }
    // the switch shows in the values at all (else this test could not fail)
    expect(changed).toBeGreaterThan(0);
  });
});
