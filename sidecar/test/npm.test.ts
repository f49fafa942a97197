/**
 * npm in this repository as a user runs it: no warning about the repository's own npm config on
 * every command, and no dependency install script (onnxruntime-node's downloads CUDA libraries
 * from outside npm and fails the install offline).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.join(__dirname, '..', '..');

/** npm as a shell would start it: without the npm_config_* variables of the npm running jest. */
function npm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync('npm', args, { cwd: REPO, encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm in the repository', () => {
  test("when a user runs an npm command, then npm prints no warning about the repository's config and runs no install script of a dependency", () => {
    const r = npm('config', 'get', 'ignore-scripts');
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'true\n', stderr: '' });
  });
});
