/**
 * The PromQL source against a real Prometheus (backfilled with promtool): series aligned per
 * instance on the step grid, NaN and ±Inf samples skipped and counted, large answers parsed off
 * the event loop and complete, and a broken upstream reported as bad_response.
 */
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeWith } from './harness/integration';
import { backfill, removeTempDirs, startPrometheus, tempDir } from './harness/prometheus';
import type { PrometheusHandle } from './harness/prometheus';
import { PrometheusSource } from '../src/source/prometheus';
import { ConfigSchema } from '../src/config/schema';
import { METRIC_NAMES, PERCENT_METRICS } from '../src/profiles/profiles';
import type { MetricName } from '../src/profiles/profiles';
import { SourceError } from '../src/source/source';

jest.setTimeout(120_000);

const STEP = 300;
const LENGTH = 288;
const WIDE = 3000;

function sourceFor(url: string, query: string): PrometheusSource {
  const config = ConfigSchema.parse({ source: { type: 'prometheus', prometheus: { url, timeout: '2m', deadline: '3m', retries: 0 } } }).source.prometheus!;
  const queries = Object.fromEntries(METRIC_NAMES.map((m) => [m, query])) as Record<MetricName, string>;
  return new PrometheusSource({ config, secrets: {}, queries });
}

describeWith(['prometheus', 'promtool'])('PromQL source with a real Prometheus', () => {
  let prom: PrometheusHandle;
  // a day on the 5-minute grid, ending on the hour before now
  const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600;
  const start = end - (LENGTH - 1) * STEP;

  beforeAll(async () => {
    const dir = await tempDir('source');
    // OpenMetrics: each series' samples together, in time order
    const out: string[] = ['# TYPE probe gauge'];
    // instance a: k at step k, except NaN at step 10 and +Inf at step 20
    for (let k = 0; k < LENGTH; k++) out.push(`probe{instance="a"} ${k === 10 ? 'NaN' : k === 20 ? '+Inf' : k} ${start + k * STEP}`);
    // instance b: 2k, nothing at steps 100-149
    for (let k = 0; k < LENGTH; k++) if (k < 100 || k >= 150) out.push(`probe{instance="b"} ${2 * k} ${start + k * STEP}`);
    out.push('# TYPE wide gauge');
    for (let i = 0; i < WIDE; i++) for (let k = 0; k < LENGTH; k++) out.push(`wide{instance="w${i}"} ${i + k / 1000} ${start + k * STEP}`);
    out.push('# EOF');
    const om = path.join(dir, 'source.om');
    await writeFile(om, out.join('\n') + '\n');
    const blocks = path.join(dir, 'blocks');
    await backfill(om, blocks);
    prom = await startPrometheus({ blocksDir: blocks });
  });
  afterAll(async () => {
    await prom?.stop();
    await removeTempDirs();
  });

  test('when series have gaps and garbage, then values are aligned per instance, gaps are NaN, and NaN/Inf samples are skipped and counted', async () => {
    const w = await sourceFor(prom.url, 'probe').fetch(end, LENGTH, STEP);
    expect([...w.instances.keys()].sort()).toEqual(['a', 'b']);
    // load (per core) has no upper bound: the probe's values pass its checks as they are
    const a = w.instances.get('a')!.load!;
    const b = w.instances.get('b')!.load!;
    expect(a).toHaveLength(LENGTH);
    expect([a[0], a[9], a[11], a[287]]).toEqual([0, 9, 11, 287]);
    // the NaN and +Inf samples are not values: missing there (NaN) and counted, per metric
    expect([Number.isNaN(a[10]), Number.isNaN(a[20])]).toEqual([true, true]);
    // percent metrics also drop what lies beyond 100 (+1 tolerance): 186 of a's and 188 of b's values (b's
    // last value before its gap, 198, is carried one step by Prometheus' lookback)
    expect(w.dropped).toEqual(
      Object.fromEntries(METRIC_NAMES.map((m) => [m, PERCENT_METRICS.has(m) ? { non_finite: 2, out_of_range: 374 } : { non_finite: 2 }])),
    );
    expect([w.instances.get('a')!.memory![101], w.instances.get('a')!.memory![102]]).toEqual([100, NaN]);
    // b's gap: Prometheus' 5-minute lookback carries its last sample one step, then nothing
    expect([b[99], b[101], b[149], b[150]]).toEqual([198, NaN, NaN, 300]);
    expect(w.failed).toEqual([]);
  });

  test('when an answer is large, then every series and sample of it arrives (parsed in the matrix worker)', async () => {
    const w = await sourceFor(prom.url, 'wide').fetch(end, LENGTH, STEP);
    expect(w.failed.map((f) => `${f.metric}: ${f.error.message}`)).toEqual([]);
    expect(w.instances.size).toBe(WIDE);
    for (const i of [0, 1234, WIDE - 1]) {
      const v = w.instances.get(`w${i}`)!.network!;
      // windows hold single precision (what the model reads)
      expect([v[0], v[144], v[LENGTH - 1]]).toEqual([...Float32Array.of(i, i + 0.144, i + (LENGTH - 1) / 1000)]);
    }
    expect([w.dropped.network, w.dropped.load]).toEqual([undefined, undefined]);
  });

  test('when the upstream answers 200 with something that is not Prometheus JSON, then the metric fails as bad_response', async () => {
    const server = http.createServer((_, res) => res.end('<html>proxy login</html>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const e = await sourceFor(`http://127.0.0.1:${port}`, 'probe')
        .fetch(end, LENGTH, STEP)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SourceError);
      expect({ reason: (e as SourceError).reason, message: (e as SourceError).message }).toEqual({
        reason: 'bad_response',
        message: `http://127.0.0.1:${port}: unexpected response (not a success matrix): <html>proxy login</html>`,
      });
    } finally {
      server.close();
    }
  });
});
