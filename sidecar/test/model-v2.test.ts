/**
 * The v2 model's export boundary (one pass per server, seasonal lags, a week of context), sidecar
 * side: a smoke training run of models/train/train_v2.sh exports a model whose fixture PyTorch and
 * onnxruntime-node both reproduce within the same tolerance, with quantiles that never cross and
 * a server's forecast independent of the other servers in its batch. And serving it: the
 * committed smoke model (test/fixtures/model-v2-smoke, exported by that same smoke run:
 * `FORESIGHT_TRAIN_OUT=sidecar/test/fixtures/model-v2-smoke bash models/train/train_v2.sh --smoke`,
 * weights.pt left out; regenerate it when the v2 export changes) loads as
 * contract version 2, the sidecar's own input building reproduces the tensors training made, and
 * the forecast stage hands every series of a server the model's forecast of it; a model of a
 * contract version the sidecar does not know is refused, naming the version.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describeWithTorch, PYTHON } from './harness/python';
import { loadModelFiles } from '../src/forecast/manifest';
import type { LoadedModel } from '../src/forecast/manifest';
import { createModelSession } from '../src/forecast/session';
import type { ModelSession } from '../src/forecast/session';
import { servingContract } from '../src/forecast/contract';
import type { ServerWindow } from '../src/forecast/contract';
import { forecastWindow } from '../src/forecast/forecaster';
import { profileMatcher } from '../src/profiles/match';
import { METRIC_NAMES, PROFILE_NAMES } from '../src/profiles/profiles';
import type { MetricName } from '../src/profiles/profiles';
import type { HistoryWindow } from '../src/source/source';
import { Simulation } from '../src/simulator/simulation';
import { DEFAULT_FLEET } from '../src/simulator/fleet';
import { SimulatorSource } from '../src/source/simulator';

jest.setTimeout(180_000);

const REPO = path.join(__dirname, '..', '..');
const SMOKE_V2 = path.join(__dirname, 'fixtures', 'model-v2-smoke');

interface FixtureTensor {
  shape: number[];
  dtype?: string;
  data: number[];
}
interface Fixture {
  tolerance: { atol: number; rtol: number };
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
}
interface Manifest {
  contract_version: number;
  inputs: Array<{ name: string; dtype: 'float32' | 'int64'; shape: Array<string | number> }>;
  outputs: Array<{ name: string }>;
  checksum: { 'model.onnx': string };
}

/** Fixture inputs as ORT tensors, optionally only the servers [from, to). */
function feeds(m: Manifest, f: Fixture, from = 0, to?: number): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const i of m.inputs) {
    const t = f.inputs[i.name]!;
    const n = t.shape[0]!;
    const per = t.data.length / n;
    const end = to ?? n;
    const data = t.data.slice(from * per, end * per);
    const shape = [end - from, ...t.shape.slice(1)];
    out[i.name] =
      i.dtype === 'int64'
        ? new ort.Tensor('int64', BigInt64Array.from(data.map((x) => BigInt(x))), shape)
        : new ort.Tensor('float32', Float32Array.from(data), shape);
  }
  return out;
}

describeWithTorch()('v2 model: smoke training run and parity', () => {
  let out: string;
  let manifest: Manifest;
  let fixture: Fixture;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'foresight-smoke-v2-'));
    const r = spawnSync('bash', [path.join(REPO, 'models', 'train', 'train_v2.sh'), '--smoke'], {
      encoding: 'utf8',
      env: { ...process.env, FORESIGHT_TRAIN_OUT: out, FORESIGHT_TRAIN_WORK: out },
      timeout: 170_000,
    });
    if (r.status !== 0) throw new Error(`v2 smoke training failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    manifest = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as Manifest;
    fixture = JSON.parse(await readFile(path.join(out, 'fixture.json'), 'utf8')) as Fixture;
    ort.env.logLevel = 'fatal';
    session = await ort.InferenceSession.create(path.join(out, 'model.onnx'), { intraOpNumThreads: 1, executionProviders: ['cpu'] });
  });
  afterAll(async () => {
    await session?.release();
    await rm(out, { recursive: true, force: true });
  });

  test('when the v2 smoke model is exported, then its model.json declares contract version 2 and the per-server inputs', () => {
    expect(manifest.contract_version).toBe(2);
    expect(manifest.inputs.map((i) => i.name)).toEqual(['history', 'history_mask', 'week', 'week_mask', 'known', 'static_profile']);
    expect(manifest.outputs.map((o) => o.name)).toEqual(['quantiles', 'static_weights', 'encoder_weights', 'decoder_weights', 'attention']);
  });

  test('when the v2 smoke model is exported, then PyTorch reproduces its fixture (Python side of parity)', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests_v2', '-t', '.'], {
      cwd: path.join(REPO, 'models', 'train'),
      encoding: 'utf8',
      env: { ...process.env, FORESIGHT_MODEL_DIR: out, OPENBLAS_NUM_THREADS: '1' },
    });
    expect({ status: r.status, tail: r.stderr.trim().split('\n').slice(-1)[0] }).toEqual({ status: 0, tail: 'OK' });
  });

  test('when onnxruntime-node runs the fixture, then every output matches within the tolerance and quantiles never cross', async () => {
    const got = await session.run(feeds(manifest, fixture));
    const { atol, rtol } = fixture.tolerance;
    const bad: Record<string, number> = {};
    for (const [name, want] of Object.entries(fixture.outputs)) {
      const data = got[name]!.data as Float32Array;
      bad[name] = data.length === want.data.length ? want.data.filter((w, i) => !(Math.abs(data[i]! - w) <= atol + rtol * Math.abs(w))).length : Infinity;
    }
    expect(bad).toEqual({ quantiles: 0, static_weights: 0, encoder_weights: 0, decoder_weights: 0, attention: 0 });
    const q = got['quantiles']!;
    const nq = q.dims[3]!;
    const values = q.data as Float32Array;
    let crossings = 0;
    for (let i = 0; i < values.length; i += nq) for (let k = 1; k < nq; k++) if (values[i + k]! < values[i + k - 1]!) crossings++;
    expect(crossings).toBe(0);
  });

  test("when a model is re-exported from its weights with a spec change, then the change and the first run's training record are in its model.json and its fixture holds", async () => {
    const again = await mkdtemp(path.join(tmpdir(), 'foresight-smoke-v2-reexport-'));
    try {
      const args = ['--smoke', '--init-from', out, '--phase2-windows', '0', '--spec', '{"mix_median_log": true}'];
      const r = spawnSync('bash', [path.join(REPO, 'models', 'train', 'train_v2.sh'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, FORESIGHT_TRAIN_OUT: again, FORESIGHT_TRAIN_WORK: again },
        timeout: 170_000,
      });
      if (r.status !== 0) throw new Error(`re-export failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      const m = JSON.parse(await readFile(path.join(again, 'model.json'), 'utf8')) as Manifest & {
        spec: Record<string, unknown>;
        training: { init_from: string; best_epoch: number; init_from_training: Record<string, unknown> };
      };
      const first = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8')) as { training: Record<string, unknown> };
      expect(m.spec['mix_median_log']).toBe(true);
      expect({ from: m.training.init_from, epochs: m.training.best_epoch }).toEqual({ from: out, epochs: 0 });
      expect(m.training.init_from_training).toEqual(first.training);
      const f = JSON.parse(await readFile(path.join(again, 'fixture.json'), 'utf8')) as Fixture;
      const s = await ort.InferenceSession.create(path.join(again, 'model.onnx'), { intraOpNumThreads: 1, executionProviders: ['cpu'] });
      try {
        const got = (await s.run(feeds(m, f)))['quantiles']!.data as Float32Array;
        const want = f.outputs['quantiles']!.data;
        const { atol, rtol } = f.tolerance;
        expect(want.filter((w, i) => !(Math.abs(got[i]! - w) <= atol + rtol * Math.abs(w))).length).toBe(0);
      } finally {
        await s.release();
      }
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });

  test('when one server is run alone, then it gets the forecast it gets inside the batch', async () => {
    const all = (await session.run(feeds(manifest, fixture)))['quantiles']!;
    const alone = (await session.run(feeds(manifest, fixture, 1, 2)))['quantiles']!;
    const per = (all.data as Float32Array).length / all.dims[0]!;
    const inBatch = (all.data as Float32Array).slice(per, 2 * per);
    const worst = Math.max(...Array.from(alone.data as Float32Array, (v, i) => Math.abs(v - inBatch[i]!) / Math.max(1, Math.abs(inBatch[i]!))));
    expect(worst).toBeLessThan(1e-4);
  });
});

/** Server `b` of the fixture as the forecast stage gets it: raw values, NaN where the mask is 0. */
function fixtureServer(f: Fixture, b: number, origin: number): ServerWindow {
  const series = (name: 'history' | 'week'): Record<MetricName, Float32Array> => {
    const [, n, m] = f.inputs[name]!.shape as [number, number, number];
    const v = f.inputs[name]!.data;
    const mask = f.inputs[`${name}_mask`]!.data;
    return Object.fromEntries(
      METRIC_NAMES.map((metric, j) => [metric, Float32Array.from({ length: n }, (_, k) => (mask[(b * n + k) * m + j] ? v[(b * n + k) * m + j]! : NaN))]),
    ) as Record<MetricName, Float32Array>;
  };
  return { profile: PROFILE_NAMES[f.inputs['static_profile']!.data[b]!]!, origin, values: series('history'), context: series('week') };
}

/** The fixture's origin of server `b`, recovered from its known features at the last encoder step (any week with that weekday and time). */
function fixtureOrigin(f: Fixture, b: number, te: number): number {
  const t = f.inputs['known']!.shape[1]!;
  const row = f.inputs['known']!.data.slice(b * t * 4, (b + 1) * t * 4);
  const last = (te - 1) * 4;
  const second = Math.round((((((Math.atan2(row[last]!, row[last + 1]!) / (2 * Math.PI)) * 86400) % 86400) + 86400) % 86400) / 300) * 300;
  const dow = Math.round(((((Math.atan2(row[last + 2]!, row[last + 3]!) / (2 * Math.PI)) * 7) % 7) + 7) % 7);
  return ((dow - 4 + 7) % 7) * 86400 + second + 7 * 86400 * 2900;
}

describe('v2 model served: the committed smoke model', () => {
  let model: LoadedModel;
  let fixture: Fixture;
  let session: ModelSession;
  beforeAll(async () => {
    model = await loadModelFiles(SMOKE_V2);
    fixture = JSON.parse(await readFile(path.join(SMOKE_V2, 'fixture.json'), 'utf8')) as Fixture;
    session = await createModelSession(model, 'cpu', 1);
  });
  afterAll(() => session?.release());

  test('when it is loaded, then it is served as contract version 2 reading a day plus the encoder at 5 minutes and a week at 1 h', () => {
    const c = servingContract(model.manifest);
    expect({ version: c.version, historyLength: c.historyLength, context: c.context, seriesPerRow: c.seriesPerRow }).toEqual({
      version: 2,
      historyLength: 288 + model.manifest.encoder_length,
      context: { length: 172, stepSeconds: 3600 },
      seriesPerRow: 6,
    });
  });

  test("when the fixture's servers go through the sidecar's input building, then the tensors are the ones training made", () => {
    const c = servingContract(model.manifest);
    const b = fixture.inputs['static_profile']!.shape[0]!;
    const rows = Array.from({ length: b }, (_, k) => ({
      server: fixtureServer(fixture, k, fixtureOrigin(fixture, k, model.manifest.encoder_length)),
      metrics: METRIC_NAMES,
    }));
    const built = c.buildInputs(rows);
    const differing: Record<string, number> = {};
    for (const [name, want] of Object.entries(fixture.inputs)) {
      const got = Array.from(built.tensors[name]!, Number);
      differing[name] = got.length === want.data.length ? want.data.filter((w, i) => !(Math.abs(got[i]! - w) <= 1e-4)).length : Infinity;
    }
    expect(differing).toEqual({ history: 0, history_mask: 0, week: 0, week_mask: 0, known: 0, static_profile: 0 });
    // written into an earlier batch's tensors (the same servers in another order), the same tensors
    const earlier = c.buildInputs([...rows].reverse());
    expect(c.buildInputs(rows, earlier.tensors)).toEqual(built);
  });

  test("when the forecast stage runs a window of the fixture's servers, then each series gets the model's forecast of that metric of that server", async () => {
    const te = model.manifest.encoder_length;
    const origin = fixtureOrigin(fixture, 0, te);
    const servers = [0, 1].map((k) => fixtureServer(fixture, k, origin));
    const ln = servingContract(model.manifest).historyLength;
    const window: HistoryWindow = {
      end: origin,
      step: 300,
      length: ln,
      instances: new Map(servers.map((s, k) => [`host${k}`, s.values as Record<MetricName, Float32Array>])),
      profiles: new Map(servers.map((s, k) => [`host${k}`, s.profile])),
      dropped: {},
      failed: [],
    };
    const context: HistoryWindow = {
      end: origin,
      step: 3600,
      length: 172,
      instances: new Map(servers.map((s, k) => [`host${k}`, s.context as Record<MetricName, Float32Array>])),
      dropped: {},
      failed: [],
    };
    const direct = await session.run(servingContract(model.manifest).buildInputs(servers.map((server) => ({ server, metrics: METRIC_NAMES }))));
    const r = await forecastWindow(
      window,
      { manifest: model.manifest, runner: { run: (i) => session.run(i) }, profileOf: profileMatcher(undefined), minHistoryPoints: 1, batchSize: 1 },
      context,
    );
    const [td, nq] = [model.manifest.decoder_length, model.manifest.quantiles.length];
    let compared = 0;
    r.instances.forEach((inst, k) => {
      METRIC_NAMES.forEach((m, j) => {
        const f = inst.forecasts[m];
        if (!f) return;
        const want = direct.quantiles.subarray((k * 6 + j) * td * nq, (k * 6 + j + 1) * td * nq);
        // the stage only clamps to the metric's range and orders quantiles (the model's own output
        // already is both); batches of one and of two differ only by float rounding
        const worst = Math.max(...Array.from(f.quantiles, (x, i) => Math.abs(x - Math.max(0, want[i]!)) / Math.max(1, Math.abs(x))));
        expect([inst.instance, m, worst < 1e-5]).toEqual([inst.instance, m, true]);
        compared++;
      });
    });
    expect(compared).toBe(r.instances.reduce((a, i) => a + Object.keys(i.forecasts).length, 0));
    expect(compared).toBeGreaterThanOrEqual(6);
    // the variable-selection weights are read per series as well
    expect(servingContract(model.manifest).output(direct, 1, 'memory').encoderWeights).toHaveLength(model.manifest.features.past_variables.length);
    // the history the model saw: the fixture windows' oldest observed value, in hours before the origin
    expect(r.instances[0]!.history!.modelHours).toBe(171);
  });

  test('when the simulator is read at a 1 h step, then each hour holds exactly what the 5-minute read holds at that instant', async () => {
    const end = 1_790_000_000 - (1_790_000_000 % 300);
    // two sources: nothing one read computed is reused by the other
    const source = (): SimulatorSource => new SimulatorSource(new Simulation({ fleet: DEFAULT_FLEET, seed: 3, scenario: 'healthy' }), end - 2 * 86400);
    const fine = await source().fetch(end, 289, 300);
    const hourly = await source().fetch(end, 25, 3600);
    let compared = 0;
    for (const [instance, metrics] of hourly.instances) {
      for (const m of METRIC_NAMES) {
        for (let k = 0; k < 25; k++) {
          expect([instance, m, k, metrics[m]![k]]).toEqual([instance, m, k, fine.instances.get(instance)![m]![k * 12]]);
          compared++;
        }
      }
    }
    expect(compared).toBe(20 * 6 * 25);
  });

  test('when model.json names a contract version this sidecar does not serve, then loading fails naming that version', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'foresight-v3-'));
    try {
      await cp(SMOKE_V2, dir, { recursive: true });
      const p = path.join(dir, 'model.json');
      await writeFile(p, JSON.stringify({ ...(JSON.parse(await readFile(p, 'utf8')) as object), contract_version: 3 }));
      await expect(loadModelFiles(dir)).rejects.toThrow(
        `${p}: this sidecar cannot feed the model: contract_version 3: this sidecar serves contract versions 1 (or absent), 2; a model of version 3 needs a sidecar that knows its inputs and outputs`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('when a version-2 model declares a week input of another length, then the error says what differs', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'foresight-v2-'));
    try {
      await cp(SMOKE_V2, dir, { recursive: true });
      const p = path.join(dir, 'model.json');
      await writeFile(p, JSON.stringify({ ...(JSON.parse(await readFile(p, 'utf8')) as object), week_length: 100 }));
      await expect(loadModelFiles(dir)).rejects.toThrow(
        'this sidecar cannot feed the model: week: shape ["batch",172,6] does not match [batch, 100, 6] (history 312, week 100, encoder 24, decoder 12); week_mask: shape ["batch",172,6] does not match [batch, 100, 6] (history 312, week 100, encoder 24, decoder 12)',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
