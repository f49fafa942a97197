/**
 * `foresight` as npm links it (`npx foresight …` after `npm install` at the repository root), and
 * the build it runs first when the compiled sidecar is missing or older than its sources.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requireIntegration } from './harness/integration';

jest.setTimeout(240_000);

const REPO = path.join(__dirname, '..', '..');
const SIDECAR = path.join(__dirname, '..');

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 200_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the foresight bin', () => {
  test('when npm links the workspace bins at install, then the file it links is in the repository, executable and a node script', () => {
    // npm skips a bin whose file does not exist at install time: it cannot be a build output
    const bin = (JSON.parse(readFileSync(path.join(SIDECAR, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['foresight']!;
    expect(bin.startsWith('dist/')).toBe(false);
    const file = path.join(SIDECAR, bin);
    expect(() => accessSync(file, constants.X_OK)).not.toThrow();
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('when the repository is installed, then npx foresight --help prints the commands', () => {
    if (!existsSync(path.join(REPO, 'node_modules', '.bin', 'foresight'))) {
      const reason = 'node_modules/.bin/foresight is not linked (installed before the bin was a file in the repository): run npm install at the root';
      if (requireIntegration()) throw new Error(`FORESIGHT_REQUIRE_INTEGRATION=1 but ${reason}`);
      process.stderr.write(`skipping: ${reason}\n`);
      return;
    }
    const r = run('npx', ['--no-install', 'foresight', '--help'], REPO);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: foresight \[options\] \[command\]\n/);
    expect(r.stdout).toContain('\nCommands:\n  serve [options]');
  });

  test('when the sidecar is not built or its sources changed, then foresight says it builds, builds only then, and runs the command', async () => {
    // a copy of the sidecar's sources, so the build here cannot disturb the dist other tests run
    const dir = await mkdtemp(path.join(tmpdir(), 'foresight-bin-'));
    try {
      const copy = path.join(dir, 'sidecar');
      await mkdir(copy);
      for (const p of ['src', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
        await cp(path.join(SIDECAR, p), path.join(copy, p), { recursive: true, preserveTimestamps: true });
      await symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
      const foresight = (): ReturnType<typeof run> => run(process.execPath, [path.join(copy, 'bin', 'foresight.js'), '--version'], dir);

      let r = foresight();
      expect(r).toMatchObject({ status: 0, stdout: '0.1.0\n' });
      expect(r.stderr).toMatch(/^foresight: building the sidecar \(sidecar\/dist\/main\.js is missing\) …\nforesight: built the sidecar in \d+\.\d s\n$/);

      // up to date: nothing built, nothing said
      expect(foresight()).toEqual({ status: 0, stdout: '0.1.0\n', stderr: '' });

      const later = new Date(Date.now() + 5000);
      await utimes(path.join(copy, 'src', 'cli', 'errors.ts'), later, later);
      r = foresight();
      expect(r).toMatchObject({ status: 0, stdout: '0.1.0\n' });
      expect(r.stderr).toMatch(/^foresight: building the sidecar \(its sources changed since the last build\) …\nforesight: built the sidecar in \d+\.\d s\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
