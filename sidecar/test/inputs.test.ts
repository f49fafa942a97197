import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeKnownFeatures } from '../src/forecast/inputs';
import { buildModelInputs } from '../src/forecast/contract-v1';

describe('model inputs', () => {
  test('when known features are written, then they match what training computed for the shipped fixture', async () => {
    // the fixture's known tensor came from models/train/foresight_tft/data.py; recover each
    // window's origin from its time-of-day and day-of-week and rebuild it here
    const dir = path.join(__dirname, '..', '..', 'models', 'foresight-tft');
    const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
      encoder_length: number;
      decoder_length: number;
      step_seconds: number;
    };
    const fixture = JSON.parse(await readFile(path.join(dir, 'fixture.json'), 'utf8')) as { inputs: { known: { shape: number[]; data: number[] } } };
    const [b, t] = fixture.inputs.known.shape as [number, number, number];
    const te = manifest.encoder_length;
    for (let i = 0; i < b; i++) {
      const row = fixture.inputs.known.data.slice(i * t * 4, (i + 1) * t * 4);
      const last = (te - 1) * 4;
      const tod = Math.atan2(row[last]!, row[last + 1]!);
      const secondOfDay = Math.round((((((tod / (2 * Math.PI)) * 86400) % 86400) + 86400) % 86400) / 300) * 300;
      const dowIndex = Math.round(((((Math.atan2(row[last + 2]!, row[last + 3]!) / (2 * Math.PI)) * 7) % 7) + 7) % 7);
      // any day with that weekday: 1970-01-01 was a Thursday (4)
      const day = (dowIndex - 4 + 7) % 7;
      const origin = day * 86400 + secondOfDay + 7 * 86400 * 2900;
      const out = new Float32Array(t * 4);
      writeKnownFeatures(out, 0, origin, te, t, manifest.step_seconds);
      out.forEach((v, k) => expect(Math.abs(v - row[k]!)).toBeLessThan(1e-4));
    }
  });

  test('when a window has missing values and metrics, then masks are 0 there and values are 0', () => {
    const inputs = buildModelInputs([{ profile: 'database', metric: 'memory', origin: 0, values: { memory: [95, NaN, 96], cpu: [10, 11, NaN] } }], {
      encoderLength: 3,
      decoderLength: 2,
      stepSeconds: 300,
    });
    const t = inputs.tensors;
    expect(t['past_target']).toEqual(Float32Array.from([95, 0, 96]));
    expect(t['past_target_mask']).toEqual(Float32Array.from([1, 0, 1]));
    // [time][metric]: cpu is slot 0, memory slot 1; disk, iowait, load, network absent
    expect(t['past_observed_mask']).toEqual(Float32Array.from([1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    expect(t['static_profile']).toEqual(BigInt64Array.from([1n]));
    expect(t['static_metric']).toEqual(BigInt64Array.from([1n]));
    expect(t['known']).toHaveLength(5 * 4);
  });

  test("when a batch is written into an earlier batch's tensors, then it is exactly what a fresh build gives, with none of the earlier values left", () => {
    const shape = { encoderLength: 3, decoderLength: 2, stepSeconds: 300 };
    const earlier = buildModelInputs([{ profile: 'ml_compute', metric: 'cpu', origin: 600, values: { cpu: [90, 91, 92], disk: [50, 51, 52] } }], shape);
    const next = [{ profile: 'database' as const, metric: 'memory' as const, origin: 0, values: { memory: [95, NaN, 96], cpu: [10, 11, NaN] } }];
    const reused = buildModelInputs(next, shape, earlier.tensors);
    // the same buffers (nothing allocated), holding the new batch only
    expect(reused.tensors['past_observed']).toBe(earlier.tensors['past_observed']);
    expect(reused).toEqual(buildModelInputs(next, shape));
  });
});
