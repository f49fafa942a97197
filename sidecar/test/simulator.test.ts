import { PassThrough } from 'node:stream';
import { DEFAULT_FLEET, FleetSpecError, buildFleet, parseFleetSpec, scaleFleet } from '../src/simulator/fleet';
import { ScenarioError, parseScenario, parseSchedule } from '../src/simulator/scenario';
import { Simulation } from '../src/simulator/simulation';
import { IncidentError } from '../src/simulator/incidents';
import { advanceCounters, initialCounters, renderNodeMetrics } from '../src/simulator/node-exporter';
import { scheduleIncidents, writeHistory } from '../src/simulator/history';
import { DEFAULT_THRESHOLDS } from '../src/profiles/profiles';

// A fixed Wednesday noon (UTC) so daily and weekly cycles are the same on every run.
const T0 = Date.UTC(2026, 10, 18, 12, 0, 0) / 1000;
const DAY = 86400;

describe('fleet', () => {
  test('when the default fleet is built, then it has the 20 documented servers in 7 profiles', () => {
    const fleet = buildFleet(DEFAULT_FLEET, 1);
    expect(fleet.map((s) => s.instance)).toEqual([
      'ppml0001',
      'ppml0002',
      'ppml0003',
      'ppml0004',
      'ppml0005',
      'ppml0006',
      'ppml0007',
      'ppml0008',
      'ppml0009',
      'ppml0010',
      'ppdb001',
      'ppdb002',
      'ppdb003',
      'ppweb001',
      'ppweb002',
      'ppweb003',
      'ppcon01',
      'ppdi001',
      'ppra001',
      'ppsrv001',
    ]);
    expect(new Set(fleet.map((s) => s.profile)).size).toBe(7);
  });

  test('when a fleet of 1,000 is asked for, then it keeps the mix and every name is unique', () => {
    const spec = scaleFleet(1000);
    const fleet = buildFleet(spec, 1);
    expect(fleet).toHaveLength(1000);
    expect(new Set(fleet.map((s) => s.instance)).size).toBe(1000);
    expect(spec.ml_compute).toBe(500);
    expect(spec.generic).toBe(50);
  });

  test('when a fleet of 7 is asked for, then every profile is present', () => {
    expect(Object.values(scaleFleet(7))).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  test.each([
    [
      'ml_compute=10,bogus=2',
      'fleet spec: unknown profile "bogus" (expected one of: ml_compute, database, web_api, conductor_mgmt, data_ingest, risk_analytics, generic)',
    ],
    ['ml_compute=ten', 'fleet spec: count for ml_compute must be a whole number ≥ 0 (got "ten")'],
    ['ml_compute', 'fleet spec: "ml_compute" is not profile=count'],
    ['database=0', 'fleet spec "database=0": no servers'],
    ['', 'fleet spec "": empty (expected profile=count,…)'],
    ['generic=200000', 'fleet spec "generic=200000": 200000 servers is more than the simulator\'s limit of 100000'],
  ])('when the fleet spec is %j, then the error names the bad value', (spec, message) => {
    expect(() => parseFleetSpec(spec)).toThrow(new FleetSpecError(message));
  });

  test('when a fleet spec is valid, then unnamed profiles get no servers', () => {
    expect(parseFleetSpec('ml_compute=2, database=1')).toEqual({
      ml_compute: 2,
      database: 1,
      web_api: 0,
      conductor_mgmt: 0,
      data_ingest: 0,
      risk_analytics: 0,
      generic: 0,
    });
  });
});

describe('scenarios', () => {
  test('when an unknown scenario is named, then the error names it and the valid ones', () => {
    expect(() => parseScenario('meltdown')).toThrow(new ScenarioError('unknown scenario "meltdown" (expected one of: healthy, busy, degrading, critical)'));
  });

  test('when a schedule is parsed, then offsets become seconds from the start', () => {
    expect(parseSchedule('healthy,36h:critical,40h:healthy')).toEqual({
      initial: 'healthy',
      switches: [
        { offsetSeconds: 36 * 3600, scenario: 'critical' },
        { offsetSeconds: 40 * 3600, scenario: 'healthy' },
      ],
    });
    expect(() => parseSchedule('healthy,10h:nope')).toThrow('unknown scenario "nope"');
    expect(() => parseSchedule('healthy,critical')).toThrow('schedule: "critical" is not offset:scenario (e.g. 36h:critical)');
  });

  function dayOfValues(scenario: 'healthy' | 'busy' | 'critical' | 'degrading'): Simulation {
    return new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario });
  }

  test('when the fleet is healthy for a day, then ml_compute and web_api stay under 50 % CPU and memory', () => {
    const sim = dayOfValues('healthy');
    let worst = 0;
    for (const s of sim.servers.filter((x) => x.profile === 'ml_compute' || x.profile === 'web_api')) {
      for (let t = T0; t < T0 + DAY; t += 300) {
        const m = sim.metricValues(s, t);
        worst = Math.max(worst, m.cpu, m.memory);
      }
    }
    expect(worst).toBeLessThan(50);
  });

  test('when the fleet is healthy, then database memory is high (page cache) but under its critical threshold', () => {
    const sim = dayOfValues('healthy');
    for (const s of sim.servers.filter((x) => x.profile === 'database')) {
      for (let t = T0; t < T0 + DAY; t += 600) {
        const m = sim.metricValues(s, t);
        expect(m.memory).toBeGreaterThan(90);
        expect(m.memory).toBeLessThan(DEFAULT_THRESHOLDS.database.memory.critical);
      }
    }
  });

  test('when the fleet is busy, then ml_compute training runs reach ~100 % CPU', () => {
    const sim = dayOfValues('busy');
    const peak = Math.max(
      ...sim.servers.filter((s) => s.profile === 'ml_compute').flatMap((s) => Array.from({ length: 288 }, (_, k) => sim.metricValues(s, T0 + k * 300).cpu)),
    );
    expect(peak).toBeGreaterThan(95);
  });

  test.each([
    ['critical', 90, 10],
    ['degrading', 0, 5],
  ] as const)('when the fleet has been %s for an hour, then the stressed share is at its targets', (scenario, level, count) => {
    const sim = dayOfValues('healthy');
    sim.switchScenario(scenario, T0);
    const t = T0 + 3600;
    const stressed = sim.servers.filter((s) => {
      const m = sim.metricValues(s, t);
      const calm = dayOfValues('healthy').metricValues(s, t);
      // counted: a metric the scenario pushed there (database memory sits at ~95 % every day)
      const pushed = (k: 'cpu' | 'memory' | 'disk' | 'iowait') => m[k] - calm[k] > 10 && m[k] >= level;
      return pushed('cpu') || pushed('memory') || pushed('disk') || pushed('iowait');
    });
    expect(stressed).toHaveLength(count);
  });

  test('when critical switches back to healthy, then the stress fades within 10 minutes', () => {
    const sim = dayOfValues('healthy');
    sim.switchScenario('critical', T0);
    sim.switchScenario('healthy', T0 + 3600);
    const calm = dayOfValues('healthy');
    for (const s of sim.servers) {
      expect(sim.metricValues(s, T0 + 3600 + 601)).toEqual(calm.metricValues(s, T0 + 3600 + 601));
    }
  });

  test('when a build-up time is set, then critical builds up over it instead of 15 minutes, and ends where the default ends', () => {
    const quick = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    const slow = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy', buildUpSeconds: 4 * 3600 });
    quick.switchScenario('critical', T0);
    slow.switchScenario('critical', T0);
    const stressed = quick.servers.filter((s) => quick.timeline.stressesAt(s, T0 + 900).length > 0);
    expect(stressed).toHaveLength(10);
    for (const s of stressed) {
      expect(quick.timeline.stressesAt(s, T0 + 900)).toEqual([{ scenario: 'critical', intensity: 1 }]);
      expect(slow.timeline.stressesAt(s, T0 + 900)).toEqual([{ scenario: 'critical', intensity: 900 / (4 * 3600) }]);
      expect(slow.timeline.stressesAt(s, T0 + 2 * 3600)).toEqual([{ scenario: 'critical', intensity: 0.5 }]);
      expect(slow.metricValues(s, T0 + 4 * 3600)).toEqual(quick.metricValues(s, T0 + 4 * 3600));
    }
  });

  test('when two simulations share a seed, then every value is the same; another seed differs', () => {
    const a = new Simulation({ fleet: DEFAULT_FLEET, seed: 7, scenario: 'busy' });
    const b = new Simulation({ fleet: DEFAULT_FLEET, seed: 7, scenario: 'busy' });
    const c = new Simulation({ fleet: DEFAULT_FLEET, seed: 8, scenario: 'busy' });
    const at = (sim: Simulation) => sim.servers.map((s) => sim.metricValues(s, T0 + 1234));
    expect(at(a)).toEqual(at(b));
    expect(at(a)).not.toEqual(at(c));
  });
});

describe('incidents', () => {
  test('when a memory leak is injected, then memory crosses the profile threshold at the recorded time', () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    const inc = sim.injectIncident({ instance: 'ppml0003', onset: T0, rampSeconds: 5400 });
    expect(inc).toMatchObject({ kind: 'memory_leak', metric: 'memory', threshold: 98, crossing: T0 + 5400 });
    const s = sim.server('ppml0003')!;
    expect(sim.metricValues(s, inc.crossing - 60).memory).toBeLessThan(98);
    expect(sim.metricValues(s, inc.crossing).memory).toBeCloseTo(98, 6);
    expect(sim.metricValues(s, inc.crossing + 60).memory).toBeGreaterThan(98);
    // fixed an hour later: back to normal
    expect(sim.metricValues(s, inc.end + 60).memory).toBeLessThan(50);
  });

  test('when a disk fill is injected on a database, then /data crosses 90 % at the recorded time', () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    const inc = sim.injectIncident({ instance: 'ppdb002', onset: T0, rampSeconds: 3600 });
    expect(inc).toMatchObject({ kind: 'disk_fill', metric: 'disk', threshold: 90 });
    const s = sim.server('ppdb002')!;
    expect(sim.metricValues(s, inc.crossing - 60).disk).toBeLessThan(90);
    expect(sim.metricValues(s, inc.crossing + 60).disk).toBeGreaterThan(90);
  });

  test('when an incident is asked for a server that does not exist or overlaps, then the error says so', () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'healthy' });
    expect(() => sim.injectIncident({ instance: 'nope01', onset: T0 })).toThrow(new IncidentError('unknown instance "nope01"'));
    sim.injectIncident({ instance: 'ppweb001', onset: T0 });
    expect(() => sim.injectIncident({ instance: 'ppweb001', onset: T0 + 600 })).toThrow('incident on ppweb001 overlaps inc-1');
    expect(() => sim.injectIncident({ instance: 'ppdb001', onset: T0, rampSeconds: 60 })).toThrow(
      new IncidentError('incident ramp must be at least 5 minutes (got 60 s)'),
    );
  });

  test('when incidents are scheduled over two days, then they are deterministic and do not overlap', () => {
    const make = () => {
      const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 3, scenario: 'healthy' });
      return scheduleIncidents(sim, 6, T0, T0 + 2 * DAY).map((i) => i.toJSON());
    };
    const a = make();
    expect(a).toHaveLength(6);
    expect(make()).toEqual(a);
    for (const inc of a) {
      expect(inc.crossing - inc.onset).toBeGreaterThanOrEqual(3600);
      expect(inc.end).toBeLessThanOrEqual(T0 + 2 * DAY);
    }
  });
});

describe('node_exporter exposition', () => {
  test('when counters advance, then they never decrease', () => {
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 1, scenario: 'critical' });
    const s = sim.servers[0]!;
    const c = initialCounters(1, s);
    let prev = Array.from(c.cpuSeconds).concat([c.rxBytes, c.txBytes]);
    for (let t = T0; t < T0 + 3600; t += 15) {
      advanceCounters(c, sim.gauges(s, t), 15);
      const now = Array.from(c.cpuSeconds).concat([c.rxBytes, c.txBytes]);
      now.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(prev[i]!));
      prev = now;
    }
  });

  test('when a server is rendered, then it uses node_exporter names with its instance label', () => {
    const sim = new Simulation({ fleet: parseFleetSpec('web_api=1'), seed: 1, scenario: 'healthy' });
    const s = sim.servers[0]!;
    const text = renderNodeMetrics([{ server: s, gauges: sim.gauges(s, T0), counters: initialCounters(1, s) }]);
    expect(text).toContain('# TYPE node_cpu_seconds_total counter\n');
    expect(text).toMatch(/^node_cpu_seconds_total\{instance="ppweb001",cpu="1",mode="iowait"\} \d+(\.\d+)?$/m);
    expect(text).toMatch(/^node_memory_MemAvailable_bytes\{instance="ppweb001"\} \d+$/m);
    expect(text).toMatch(/^node_filesystem_avail_bytes\{instance="ppweb001",device="\/dev\/sda1",fstype="ext4",mountpoint="\/"\} \d+$/m);
    expect(text).toMatch(/^node_network_receive_bytes_total\{instance="ppweb001",device="eth0"\} \d+$/m);
    expect(text).toMatch(/^node_load1\{instance="ppweb001"\} [\d.]+$/m);
  });
});

describe('history', () => {
  async function collect(format: 'csv' | 'openmetrics', hours: number, step: number): Promise<string> {
    const sim = new Simulation({ fleet: parseFleetSpec('database=1,web_api=1'), seed: 1, scenario: 'healthy' });
    const out = new PassThrough();
    let text = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    await writeHistory(sim, { start: T0, end: T0 + hours * 3600, step, format }, out);
    return text;
  }

  test('when CSV history is written, then rows are timestamp,host,profile,metric,value for all six metrics', async () => {
    const text = await collect('csv', 1, 300);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('timestamp,host,profile,metric,value');
    // first step only primes the rates: 11 steps × 2 hosts × 6 metrics
    expect(lines).toHaveLength(1 + 11 * 2 * 6);
    expect(lines[1]).toMatch(new RegExp(`^${T0 + 300},ppdb001,database,cpu,\\d+\\.\\d{3}$`));
    expect(new Set(lines.slice(1).map((l) => l.split(',')[3]))).toEqual(new Set(['cpu', 'memory', 'disk', 'iowait', 'load', 'network']));
  });

  test('when OpenMetrics history is written, then timestamps are seconds and it ends with # EOF', async () => {
    const text = await collect('openmetrics', 0.5, 60);
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE node_cpu_seconds counter\n');
    expect(text).toMatch(new RegExp(`^node_load1\\{instance="ppweb001"\\} [\\d.]+ ${T0 + 60}$`, 'm'));
    expect(text).toMatch(new RegExp(`^foresight_simulator_scenario\\{scenario="healthy"\\} 1 ${T0}$`, 'm'));
  });
});
