/** The built `foresight` command: exit codes and messages a user sees. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');

function foresight(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('foresight simulate', () => {
  test('when the scenario is unknown, then it exits 2 naming the value', () => {
    expect(foresight('simulate', 'history', '--scenario', 'meltdown')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'foresight: unknown scenario "meltdown" (expected one of: healthy, busy, degrading, critical)\n',
    });
  });

  test('when the fleet spec is malformed, then it exits 2 naming the bad part', () => {
    expect(foresight('simulate', '--fleet', 'ml_compute=10,gpu_farm=3')).toMatchObject({
      status: 2,
      stderr: 'foresight: fleet spec: unknown profile "gpu_farm" (expected one of: ml_compute, database, web_api, conductor_mgmt, data_ingest, risk_analytics, generic)\n',
    });
    expect(foresight('simulate', 'history', '--servers', 'many')).toMatchObject({
      status: 2,
      stderr: 'foresight: --servers must be a whole number (got "many")\n',
    });
  });

  test('when a flag is unknown, then it exits 2 with commander\'s message', () => {
    const r = foresight('simulate', 'history', '--dayz', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--dayz'");
  });

  test('when CSV history is asked for with incidents, then it writes the rows and the incident records', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'foresight-cli-'));
    try {
      const out = path.join(dir, 'h.csv');
      const r = foresight('simulate', 'history', '--format', 'csv', '--days', '1', '--end', '1795000000', '--incidents', '2', '--out', out);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^wrote 5740 server-steps \(20 servers × 1 days at 300s, 2 incidents\) in [\d.]+ s to .*h\.csv; incidents in .*h\.csv\.incidents\.json\n$/);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1 + 287 * 20 * 6);
      const incidents = JSON.parse(readFileSync(`${out}.incidents.json`, 'utf8')) as Array<Record<string, unknown>>;
      expect(incidents).toHaveLength(2);
      expect(Object.keys(incidents[0]!)).toEqual(['id', 'instance', 'profile', 'kind', 'metric', 'threshold', 'startValue', 'onset', 'crossing', 'end']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('foresight bench', () => {
  test('when the device or batch is not one it can use, then it exits 2 naming the value before measuring anything', () => {
    expect(foresight('bench', '--device', 'tpu')).toEqual({ status: 2, stdout: '', stderr: 'foresight: --device must be cpu, cuda or auto (got "tpu")\n' });
    expect(foresight('bench', '--batch', '0')).toEqual({ status: 2, stdout: '', stderr: 'foresight: --batch must be a whole number from 1 to 65536 (got "0")\n' });
  });
});
