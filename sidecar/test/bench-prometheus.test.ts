/**
 * The real-Prometheus bench's history: the sample times it backfills serve both reads it
 * measures in full (the model's 5-minute day and an hourly week), checked against a real
 * Prometheus on a small fleet; and the command's message when Prometheus' binaries are missing.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import path from 'node:path';
import { describeWith } from './harness/integration';
import { backfill, removeTempDirs, startPrometheus, tempDir } from './harness/prometheus';
import type { PrometheusHandle } from './harness/prometheus';
import { FleetHistoryWriter, historyTimes } from '../src/bench/prometheus';
import { Simulation } from '../src/simulator/simulation';
import { scaleFleet } from '../src/simulator/fleet';
import { METRICS } from '../src/source/promql';
import { METRIC_NAMES } from '../src/profiles/profiles';

jest.setTimeout(120_000);

const HOUR = 3600;
const DAY = 86400;
const END = 1_795_000_000 - (1_795_000_000 % HOUR);

describe('bench history layout', () => {
  const o = { denseSeconds: 25 * HOUR, totalSeconds: 8 * DAY, scrapeSeconds: 60 };
  const times = historyTimes(END, o);

  test('when the layout is made, then times rise strictly, end at the end, and the last 25 h are every scrape interval', () => {
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    expect(times[times.length - 1]).toBe(END);
    const dense = times.filter((t) => t >= END - o.denseSeconds);
    expect(dense).toHaveLength(25 * 60 + 1);
    expect(dense.every((t, i) => i === 0 || t - dense[i - 1]! === 60)).toBe(true);
  });

  test("when a query at a 1 h step reads 8 days, then every hour holds two samples inside rate()'s 5-minute window", () => {
    const short: number[] = [];
    for (let h = END - 8 * DAY; h <= END; h += HOUR) {
      if (times.filter((t) => t >= h - 300 && t <= h).length < 2) short.push(h);
    }
    expect(short).toEqual([]);
    // and before the dense part, nothing else: the week costs two samples per series per hour
    expect(times.filter((t) => t < END - o.denseSeconds).length).toBeLessThanOrEqual(2 * (8 * 24 - 25) + 1);
  });
});

describeWith(['prometheus', 'promtool'])('bench history in a real Prometheus', () => {
  let prom: PrometheusHandle;
  const days = 2;
  const servers = 3;

  beforeAll(async () => {
    const dir = await tempDir('bench-history');
    const sim = new Simulation({ fleet: scaleFleet(servers), seed: 1, scenario: 'healthy' });
    // in two parts, each backfilled on its own, as the bench does: the counters continue across
    const times = historyTimes(END, { denseSeconds: 25 * HOUR, totalSeconds: days * DAY, scrapeSeconds: 60 });
    const writer = new FleetHistoryWriter(sim);
    const half = Math.floor(times.length / 2);
    for (const [k, part] of [times.slice(0, half), times.slice(half)].entries()) {
      const om = path.join(dir, `part-${k}.om`);
      const out = createWriteStream(om);
      await writer.write(part, out);
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      await backfill(om, path.join(dir, 'blocks'));
    }
    prom = await startPrometheus({ blocksDir: path.join(dir, 'blocks') });
  });
  afterAll(async () => {
    await prom?.stop();
    await removeTempDirs();
  });

  test('when the six default expressions are read at a 1 h step over the sparse hours, then every server has every hour, counters never reset', async () => {
    for (const metric of METRIC_NAMES) {
      const r = await prom.queryRange(METRICS[metric].expr, END - days * DAY, END, HOUR);
      expect({ metric, series: r.length }).toEqual({ metric, series: servers });
      for (const s of r) expect({ metric, points: s.values.length }).toEqual({ metric, points: days * 24 + 1 });
    }
    // counters written across the sparse hours only ever grow
    const resets = await prom.query(`sum(resets(node_cpu_seconds_total[${days * 24}h])) + sum(resets(node_network_receive_bytes_total[${days * 24}h]))`, END);
    expect(resets[0]?.value[1]).toBe('0');
  });

  test("when the model's 5-minute day is read, then every server has all 288 points", async () => {
    for (const metric of METRIC_NAMES) {
      const r = await prom.queryRange(METRICS[metric].expr, END - 287 * 300, END, 300);
      expect(r.map((s) => s.values.length)).toEqual(new Array<number>(servers).fill(288));
    }
  });
});

describe('foresight bench-prometheus', () => {
  test('when promtool is missing, then it exits 2 naming the missing binary and how to provide it', () => {
    const main = path.join(__dirname, '..', 'dist', 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first (npm test does)`);
    const r = spawnSync(process.execPath, [main, 'bench-prometheus', '--servers', '10'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, FORESIGHT_PROMTOOL_BIN: '/nonexistent/promtool' },
    });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toBe(
      "foresight: bench-prometheus needs Prometheus' own binaries; missing: promtool (/nonexistent/promtool). Install them (Debian: apt-get install prometheus) or point FORESIGHT_PROMETHEUS_BIN and FORESIGHT_PROMTOOL_BIN at them.\n",
    );
  });
});
