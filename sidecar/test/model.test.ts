/**
 * The export boundary, sidecar side, and model validation: onnxruntime-node reproduces the
 * fixture PyTorch wrote (same tolerance the Python test asserts), and a corrupt or mismatched
 * model is refused with a message naming what is wrong.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelFiles, ModelError } from '../src/forecast/manifest';
import type { LoadedModel } from '../src/forecast/manifest';
import { createModelSession, cudaProviderLibrary } from '../src/forecast/session';
import type { ModelInputs, ModelOutputs } from '../src/forecast/session';
import { describeWithTorch, PYTHON } from './harness/python';
import { startInferenceRunner } from '../src/forecast/runner';
import { forecastWindow } from '../src/forecast/forecaster';
import { servingContract } from '../src/forecast/contract';
import { profileMatcher } from '../src/profiles/match';
import { Simulation } from '../src/simulator/simulation';
import { DEFAULT_FLEET } from '../src/simulator/fleet';
import { SimulatorSource } from '../src/source/simulator';

jest.setTimeout(180_000);

const REPO = path.join(__dirname, '..', '..');
const SHIPPED = path.join(REPO, 'models', 'foresight-tft');

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

async function fixtureOf(dir: string): Promise<Fixture> {
  return JSON.parse(await readFile(path.join(dir, 'fixture.json'), 'utf8')) as Fixture;
}

function inputsOf(f: Fixture): ModelInputs {
  const tensors: Record<string, Float32Array | BigInt64Array> = {};
  for (const [name, t] of Object.entries(f.inputs))
    tensors[name] = t.dtype === 'int64' ? BigInt64Array.from(t.data.map((x) => BigInt(x))) : Float32Array.from(t.data);
  return { batch: f.inputs['known']!.shape[0]!, tensors };
}

/** The first `n` rows of a batch of inputs. */
function firstRows(i: ModelInputs, n: number): ModelInputs {
  return { batch: n, tensors: Object.fromEntries(Object.entries(i.tensors).map(([k, v]) => [k, v.slice(0, (v.length / i.batch) * n)])) };
}

/** Elements outside |a - b| <= atol + rtol |b|, per output. */
function parityErrors(out: ModelOutputs, f: Fixture): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const [name, want] of Object.entries(f.outputs)) {
    const got = out[name] ?? new Float32Array(0);
    let bad = got.length === want.data.length ? 0 : Infinity;
    want.data.forEach((w, i) => {
      if (!(Math.abs(got[i]! - w) <= f.tolerance.atol + f.tolerance.rtol * Math.abs(w))) bad++;
    });
    errors[name] = bad;
  }
  return errors;
}

async function expectParity(model: LoadedModel): Promise<void> {
  const f = await fixtureOf(model.dir);
  expect(f.tolerance).toEqual({ atol: model.manifest.parity.atol, rtol: model.manifest.parity.rtol });
  const session = await createModelSession(model, 'cpu', 2);
  try {
    const out = await session.run(inputsOf(f));
    expect(parityErrors(out, f)).toEqual({ quantiles: 0, static_weights: 0, encoder_weights: 0, decoder_weights: 0, attention: 0 });
    // quantiles never cross
    const q = model.manifest.quantiles.length;
    for (let i = 0; i < out.quantiles.length; i += q) {
      for (let k = 1; k < q; k++) expect(out.quantiles[i + k]!).toBeGreaterThanOrEqual(out.quantiles[i + k - 1]!);
    }
    // batch is the only dynamic axis: one series at a time gives the same answer
    const single = await session.run(firstRows(inputsOf(f), 1));
    const firstRow = out.quantiles.slice(0, single.quantiles.length);
    single.quantiles.forEach((v, i) => expect(Math.abs(v - firstRow[i]!)).toBeLessThanOrEqual(f.tolerance.atol + f.tolerance.rtol * Math.abs(firstRow[i]!)));
  } finally {
    await session.release();
  }
}

describe('shipped model', () => {
  test('when the shipped model is loaded, then onnxruntime-node reproduces its fixture within the parity tolerance', async () => {
    expect(existsSync(path.join(SHIPPED, 'model.onnx'))).toBe(true);
    await expectParity(await loadModelFiles(SHIPPED));
  });

  test('when the shipped model is measured, then model.onnx is at most 5 MB', async () => {
    expect((await stat(path.join(SHIPPED, 'model.onnx'))).size).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  test('when device is auto on a machine without CUDA, then it serves on CPU and says why', async () => {
    const session = await createModelSession(await loadModelFiles(SHIPPED), 'auto', 1);
    try {
      if (session.provider === 'cpu' && !existsSync(cudaProviderLibrary()))
        expect(session.fallbackReason).toBe('CUDA execution provider unavailable: provider libraries not installed');
      else if (session.provider === 'cpu') expect(session.fallbackReason).toMatch(/^CUDA execution provider unavailable \(.+\); using CPU$/);
      else expect(session.fallbackReason).toBeUndefined();
    } finally {
      await session.release();
    }
  });
});

describe('corrupt or mismatched model files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'foresight-model-'));
    await cp(SHIPPED, dir, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function editManifest(edit: (m: Record<string, unknown>) => void): Promise<void> {
    const p = path.join(dir, 'model.json');
    const m = JSON.parse(await readFile(p, 'utf8')) as Record<string, unknown>;
    edit(m);
    await writeFile(p, JSON.stringify(m));
  }

  test('when model.onnx is corrupt, then the checksum error names the file', async () => {
    const p = path.join(dir, 'model.onnx');
    const bytes = await readFile(p);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    await writeFile(p, bytes);
    await expect(loadModelFiles(dir)).rejects.toThrow(
      new RegExp(
        `^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: sha256 [0-9a-f]{64} does not match model.json's checksum [0-9a-f]{64} \\(corrupt or mismatched file\\)$`,
      ),
    );
  });

  test('when model.json is not JSON, then the error says so', async () => {
    await writeFile(path.join(dir, 'model.json'), '{"name": ');
    await expect(loadModelFiles(dir)).rejects.toThrow(/model\.json: not valid JSON/);
  });

  test('when the encoder length differs from the declared input shapes, then the error says what differs', async () => {
    const { decoder_length: td, encoder_length: te } = (await loadModelFiles(dir)).manifest;
    await editManifest((m) => (m['encoder_length'] = 144));
    // every contract version feeds known features over encoder + decoder; its lengths are named
    await expect(loadModelFiles(dir)).rejects.toThrow(
      new RegExp(
        `this sidecar cannot feed the model: .*known: shape \\["batch",${te + td},4\\] does not match \\[batch, ${144 + td}, 4\\] \\((history \\d+, week \\d+, )?encoder 144, decoder ${td}\\)`,
      ),
    );
  });

  test('when the metric vocabulary differs, then the error names both lists', async () => {
    await editManifest((m) => {
      const f = m['features'] as { static: Array<{ name: string; vocabulary?: string[] }> };
      f.static[1]!.vocabulary = ['cpu', 'memory'];
    });
    await expect(loadModelFiles(dir)).rejects.toThrow(
      'features.static.metric.vocabulary: expected [cpu, memory, disk, iowait, load, network], model has [cpu, memory]',
    );
  });

  test('when a required field is missing, then the error names the key', async () => {
    await editManifest((m) => delete m['decoder_length']);
    await expect(loadModelFiles(dir)).rejects.toThrow(/model\.json: decoder_length: /);
  });

  test('when model.onnx is missing, then the error names it', async () => {
    await rm(path.join(dir, 'model.onnx'));
    await expect(loadModelFiles(dir)).rejects.toThrow(new ModelError(`${path.join(dir, 'model.onnx')}: cannot read (ENOENT)`));
  });
});

describeWithTorch()('training smoke run', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'foresight-smoke-'));
    const r = spawnSync('bash', [path.join(REPO, 'models', 'train', 'train.sh'), '--smoke'], {
      encoding: 'utf8',
      env: { ...process.env, FORESIGHT_TRAIN_OUT: out, FORESIGHT_TRAIN_WORK: out },
      timeout: 170_000,
    });
    if (r.status !== 0) throw new Error(`smoke training failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  });
  afterAll(() => rm(out, { recursive: true, force: true }));

  test('when the smoke model is exported, then PyTorch reproduces its fixture (Python side of parity)', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: path.join(REPO, 'models', 'train'),
      encoding: 'utf8',
      env: { ...process.env, FORESIGHT_MODEL_DIR: out, OPENBLAS_NUM_THREADS: '1' },
    });
    expect({ status: r.status, tail: r.stderr.trim().split('\n').slice(-1)[0] }).toEqual({ status: 0, tail: 'OK' });
  });

  test('when the smoke model is exported, then onnxruntime-node reproduces the same fixture (sidecar side of parity)', async () => {
    await expectParity(await loadModelFiles(out));
  });
});

describe('inference workers', () => {
  test('when two workers run a window in small batches, then every series gets the forecast one worker gives in one batch', async () => {
    const manifest = (await loadModelFiles(SHIPPED)).manifest;
    const contract = servingContract(manifest);
    const now = 1_790_000_000 - (1_790_000_000 % 300);
    const sim = new Simulation({ fleet: DEFAULT_FLEET, seed: 7, scenario: 'healthy' });
    const source = new SimulatorSource(sim, now - 2 * 86400);
    const window = await source.fetch(now, contract.historyLength, manifest.step_seconds);
    const context = contract.context ? await source.fetch(now, contract.context.length, contract.context.stepSeconds) : undefined;
    const one = await startInferenceRunner(SHIPPED, { device: 'cpu', threads: 1, workers: 1, cudaDeviceId: 0 });
    const two = await startInferenceRunner(SHIPPED, { device: 'cpu', threads: 1, workers: 2, cudaDeviceId: 0 });
    try {
      expect([one.concurrency, two.concurrency]).toEqual([1, 2]);
      const base = { manifest, profileOf: profileMatcher(undefined), minHistoryPoints: 200 };
      const a = await forecastWindow(window, { ...base, runner: one, batchSize: 256 }, context);
      const b = await forecastWindow(window, { ...base, runner: two, batchSize: 5 }, context);
      const flat = (r: typeof a): Record<string, number[]> =>
        Object.fromEntries(r.instances.flatMap((i) => Object.entries(i.forecasts).map(([m, f]) => [`${i.instance}/${m}`, Array.from(f.quantiles)])));
      const fa = flat(a);
      const fb = flat(b);
      expect(Object.keys(fa)).toHaveLength(20 * 6);
      expect(Object.keys(fb).sort()).toEqual(Object.keys(fa).sort());
      // the same numbers up to float rounding (batch size changes the order of the sums): a few float32
      // ulps of the scaled value, which a percent metric multiplies by 100 (1.3e-5 points seen), far
      // below the parity tolerance (1e-3) and below anything a panel shows
      const worst = Math.max(...Object.keys(fa).flatMap((k) => fa[k]!.map((x, i) => Math.abs(x - fb[k]![i]!) / Math.max(1, Math.abs(x)))));
      expect(worst).toBeLessThan(1e-4);
      expect(b.errors).toEqual({});
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
