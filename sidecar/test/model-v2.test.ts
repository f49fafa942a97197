/**
 * The v2 model's export boundary (one pass per server, seasonal lags, a week of context), sidecar
 * side: a smoke training run of models/train/train_v2.sh exports a model whose fixture PyTorch and
 * onnxruntime-node both reproduce within the same tolerance, with quantiles that never cross and
 * a server's forecast independent of the other servers in its batch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describeWithTorch, PYTHON } from './harness/python';

jest.setTimeout(180_000);

const REPO = path.join(__dirname, '..', '..');

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
    out[i.name] = i.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(data.map((x) => BigInt(x))), shape) : new ort.Tensor('float32', Float32Array.from(data), shape);
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

  test('when one server is run alone, then it gets the forecast it gets inside the batch', async () => {
    const all = (await session.run(feeds(manifest, fixture)))['quantiles']!;
    const alone = (await session.run(feeds(manifest, fixture, 1, 2)))['quantiles']!;
    const per = (all.data as Float32Array).length / all.dims[0]!;
    const inBatch = (all.data as Float32Array).slice(per, 2 * per);
    const worst = Math.max(...Array.from(alone.data as Float32Array, (v, i) => Math.abs(v - inBatch[i]!) / Math.max(1, Math.abs(inBatch[i]!))));
    expect(worst).toBeLessThan(1e-4);
  });
});
