/**
 * `npm run train -- --data DIR` (docs/model.md, "Training data"): train.sh hands the trainer the
 * data directory the user named, taken from where the command ran (npm runs it at the
 * repository root; the trainer itself runs in models/train). A stand-in for Python records what
 * train.sh passes, so this runs without PyTorch; the smoke simulator history is generated for real.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const TRAIN_SH = path.join(__dirname, '..', '..', 'models', 'train', 'train.sh');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'foresight-train-data-'));
  // answers the torch/onnx import check, then writes its arguments and FORESIGHT_DATA, one a line
  await writeFile(
    path.join(dir, 'python'),
    '#!/bin/sh\n[ "$1" = -c ] && exit 0\nprintf \'%s\\n\' "$@" "FORESIGHT_DATA=${FORESIGHT_DATA:-}" > "$FAKE_PYTHON_OUT"\n',
  );
  await chmod(path.join(dir, 'python'), 0o755);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function trainArgs(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const out = path.join(dir, `args-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync('bash', [TRAIN_SH, '--smoke', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      FORESIGHT_DATA: '',
      ...env,
      FORESIGHT_PYTHON: path.join(dir, 'python'),
      FAKE_PYTHON_OUT: out,
      FORESIGHT_TRAIN_WORK: path.join(dir, 'work'),
    },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`train.sh failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return (await readFile(out, 'utf8')).trim().split('\n');
}

const after = (args: string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

test('when --data names a relative directory, then the trainer gets it resolved from where the command ran', async () => {
  const args = await trainArgs(['--data', 'traces']);
  expect(after(args, '--data')).toBe(path.join(dir, 'traces'));
  expect(args).toContain('--smoke');
});

test('when --data=DIR is used, then the trainer gets the same absolute directory', async () => {
  const args = await trainArgs(['--data=../elsewhere/traces']);
  expect(after(args, '--data')).toBe(path.join(path.dirname(dir), 'elsewhere', 'traces'));
});

test('when FORESIGHT_DATA is relative, then the trainer sees it resolved from where the command ran', async () => {
  const args = await trainArgs([], { FORESIGHT_DATA: 'from-env' });
  expect(args).not.toContain('--data');
  expect(args).toContain(`FORESIGHT_DATA=${path.join(dir, 'from-env')}`);
});

test('when --data has no directory after it, then train.sh refuses with the reason', () => {
  const r = spawnSync('bash', [TRAIN_SH, '--data'], { cwd: dir, encoding: 'utf8', env: { ...process.env, FORESIGHT_PYTHON: path.join(dir, 'python') } });
  expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 2, stderr: 'train: --data needs a directory' });
});
