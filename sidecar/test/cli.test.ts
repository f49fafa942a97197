/** The built `foresight` command: exit codes and messages a user sees. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '..', 'dist', 'main.js');

function foresight(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return foresightWith({}, ...args);
}

function foresightWith(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm test does)`);
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('foresight --help', () => {
  test('when a user asks for help, then the commands they run come first and the developer commands under their own heading', () => {
    const r = foresight('--help');
    expect(r.status).toBe(0);
    const headings = r.stdout.split('\n').filter((l) => /^\S.*:$/.test(l));
    expect(headings).toEqual(['Options:', 'Commands:', 'Developer commands (run in a clone of the repository):']);
    const section = (heading: string): string[] => {
      const rest = r.stdout.slice(r.stdout.indexOf(`${heading}\n`) + heading.length + 1);
      return rest
        .slice(0, rest.search(/\n\n|$/))
        .split('\n')
        .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
        .filter((c): c is string => c !== undefined);
    };
    expect(section('Commands:')).toEqual(['serve', 'simulate', 'help']);
    expect(section('Developer commands (run in a clone of the repository):')).toEqual(['eval', 'bench', 'bench-prometheus', 'docs', 'k8s', 'eval-risk']);
  });

  test("when a user asks for serve's help, then it names the default address, --listen and the environment variables", () => {
    const r = foresight('serve', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--listen <host:port>');
    expect(r.stdout).toContain("Listens on 127.0.0.1:9464 unless --listen, FORESIGHT_LISTEN or the config's listen says otherwise");
    for (const v of ['FORESIGHT_PROMETHEUS_URL', 'FORESIGHT_LISTEN', 'FORESIGHT_MODEL']) expect(r.stdout).toMatch(new RegExp(`^  ${v} +\\S`, 'm'));
  });
});

describe('foresight serve --listen', () => {
  let held: net.Server;
  let busy: string;
  beforeAll(async () => {
    held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    busy = `127.0.0.1:${(held.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => held.close(() => resolve())));

  test('when the address is not host:port, then it exits 2 naming the flag', () => {
    expect(foresight('serve', '--listen', '9464')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'foresight: --listen must be host:port, e.g. 127.0.0.1:9464 or :9464 (got "9464")\n',
    });
  });

  test('when the port is in use, then one line names the address and what to do, and it exits 2', () => {
    // --listen wins over FORESIGHT_LISTEN: the message names the flag's address
    const r = foresightWith({ FORESIGHT_LISTEN: '127.0.0.1:0' }, 'serve', '--listen', busy);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe(
      `foresight: cannot listen on ${busy}: address already in use (another Foresight, or another program, holds the port); stop it or choose another with --listen host:port`,
    );
    expect(r.stderr).not.toContain('EADDRINUSE');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test('when the port from the environment is in use, then the line says every way to choose another', () => {
    const r = foresightWith({ FORESIGHT_LISTEN: busy }, 'serve');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `foresight: cannot listen on ${busy}: address already in use (another Foresight, or another program, holds the port); stop it or choose another with --listen host:port, FORESIGHT_LISTEN or listen: in the config\n`,
    );
  });
});

describe('foresight serve --config', () => {
  test('when the config has typos, then it exits 2 naming every bad key with what it likely meant', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'foresight-cli-'));
    try {
      const file = path.join(dir, 'foresight.yml');
      writeFileSync(file, 'lisen: 127.0.0.1:0\nsource:\n  type: simulator\n  stpe: 5m\nmodel:\n  device: gpu\n');
      expect(foresight('serve', '--config', file)).toEqual({
        status: 2,
        stdout: '',
        stderr: [
          `foresight: ${file}: 3 problems:`,
          '  lisen: unknown key; did you mean listen?',
          '  source.stpe: unknown key; did you mean step?',
          '  model.device: must be one of auto, cuda, cpu',
          '',
        ].join('\n'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
      stderr:
        'foresight: fleet spec: unknown profile "gpu_farm" (expected one of: ml_compute, database, web_api, conductor_mgmt, data_ingest, risk_analytics, generic)\n',
    });
    expect(foresight('simulate', 'history', '--servers', 'many')).toMatchObject({
      status: 2,
      stderr: 'foresight: --servers must be a whole number (got "many")\n',
    });
  });

  test("when a flag is unknown, then it exits 2 with commander's message", () => {
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
      expect(r.stderr).toMatch(
        /^wrote 5740 server-steps \(20 servers × 1 days at 300s, 2 incidents\) in [\d.]+ s to .*h\.csv; incidents in .*h\.csv\.incidents\.json\n$/,
      );
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
    expect(foresight('bench', '--batch', '0')).toEqual({
      status: 2,
      stdout: '',
      stderr: 'foresight: --batch must be a whole number from 1 to 65536 (got "0")\n',
    });
  });
});
