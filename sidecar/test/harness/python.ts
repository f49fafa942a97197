/** Gate for tests that need Debian's Python with PyTorch (training smoke and parity). */
import { spawnSync } from 'node:child_process';
import { requireIntegration } from './integration';

export const PYTHON = process.env['FORESIGHT_PYTHON'] ?? '/usr/bin/python3';

export function describeWithTorch(): jest.Describe {
  const r = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (r.status === 0) return describe;
  const reason = `${PYTHON} cannot import torch and onnx (apt-get install python3-torch python3-onnx python3-numpy)`;
  if (requireIntegration()) {
    return ((name: string) =>
      describe(name, () => {
        test('has PyTorch', () => {
          throw new Error(`FORESIGHT_REQUIRE_INTEGRATION=1 but ${reason}`);
        });
      })) as unknown as jest.Describe;
  }
  process.stderr.write(`skipping training suite: ${reason}\n`);
  return describe.skip;
}
