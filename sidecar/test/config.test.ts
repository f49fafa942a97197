import { readdirSync } from 'node:fs';
/** Config: one fixture per way a config can be wrong, with the exact message asserted. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { ConfigSchema } from '../src/config/schema';
import { loadConfig, parseConfig, ConfigError } from '../src/config/load';
import { DEFAULT_THRESHOLDS, resolveThresholds } from '../src/profiles/profiles';

const fixture = (name: string): string => path.join(__dirname, 'fixtures', 'config', name);

describe('foresight.yml', () => {
  test('when the config is valid, then defaults fill what it leaves out and the result is frozen', async () => {
    const { config } = await loadConfig(fixture('valid.yml'), {});
    expect(config.listen).toBe('0.0.0.0:9464');
    expect(config.source.step).toBe(300);
    expect(config.source.prometheus).toMatchObject({ url: 'http://prometheus:9090', timeout: 10, retries: 2 });
    expect(config.forecast).toEqual({ horizons: ['30m', '1h', '8h'], percentiles: [10, 50, 90], min_history: 19 * 3600, calibration_series: 500 });
    expect(config.model).toEqual({ path: 'models/foresight-tft', device: 'auto', workers: 2, threads: 1, cuda: { device_id: 0 }, batch_size: 8 });
    expect(Object.isFrozen(config.forecast.horizons)).toBe(true);
  });

  test('when there is no config, then the embedded default is the simulated fleet on localhost', async () => {
    const { config, origin } = await loadConfig(undefined, {});
    expect(origin).toBe('embedded default');
    expect(config.source.type).toBe('simulator');
    expect(config.source.simulator).toEqual({ seed: 1, scenario: 'healthy', history: 2 * 86400, speed: 60, build_up: 4 * 3600 });
    expect(config.listen).toBe('127.0.0.1:9464');
  });

  test('when environment overrides are set, then they win over the file', async () => {
    const { config } = await loadConfig(fixture('valid.yml'), {
      FORESIGHT_PROMETHEUS_URL: 'https://thanos.example:10902',
      FORESIGHT_LISTEN: ':9999',
      FORESIGHT_MODEL: '/models/x',
    });
    expect(config.source.prometheus?.url).toBe('https://thanos.example:10902');
    expect(config.listen).toBe(':9999');
    expect(config.model.path).toBe('/models/x');
  });

  test.each([
    ['unknown-key.yml', 'source.bogus: unknown key (allowed here: type, step, interval, delay, staleness, keep_stale, forget_after, prometheus, simulator)'],
    ['horizon-not-multiple.yml', 'forecast.horizons[2]: must be a multiple of source.step (got 7m, step 5m)'],
    [
      'missing-prometheus.yml',
      'source.prometheus: required when source.type is prometheus (the default in a config file; source.type: simulator for the built-in fleet)',
    ],
    ['bad-url.yml', 'source.prometheus.url: must be a URL like http://prometheus:9090'],
    ['bad-duration.yml', 'source.prometheus.timeout: must be a duration like 30s, 5m or 1h (got "soon")'],
    ['missing-secret.yml', 'source.prometheus.basic_auth.password_file: cannot read /nonexistent/password (ENOENT)'],
    ['bad-enum.yml', 'model.device: must be one of auto, cuda, cpu'],
    ['shard-index.yml', 'sharding.index: must be less than sharding.total'],
    ['bad-listen.yml', 'listen: must be a string (expected string, received number)'],
    ['yaml-syntax.yml', 'YAML syntax at line 5, column 1: All mapping items must start at the same column'],
    ['repeated-percentile.yml', 'forecast.percentiles: must not repeat a percentile'],
    ['threshold-order.yml', 'profiles.thresholds.database.cpu.critical: warning (75) must be below critical (70)'],
    ['unknown-metric.yml', 'profiles.thresholds.database.gpu: unknown key (allowed here: cpu, memory, disk, iowait, load, network)'],
    ['two-auth.yml', 'source.prometheus.bearer_token_file: basic_auth and bearer_token_file cannot both be set'],
    ['bad-size.yml', 'source.prometheus.max_answer_size: must be a size like 64MiB, 512KiB or 1GiB (got "10MB")'],
    ['short-staleness.yml', 'source.staleness: must be at least two steps (got 5m, step 5m)'],
    ['forget-before-stale.yml', 'source.forget_after: must not be shorter than source.keep_stale (got 1h, keep_stale 2h)'],
    ['exporter-horizon.yml', 'exporter.forecast_horizons[1]: must be one of forecast.horizons (got "2h"; forecast.horizons: 30m, 1h, 8h)'],
    ['exporter-percentile.yml', 'exporter.time_to_breach_percentiles[1]: must be one of forecast.percentiles (got 95; forecast.percentiles: 10, 50, 90)'],
    ['exporter-full-and-drivers.yml', 'exporter.drivers: cannot be combined with exporter.full (full publishes everything)'],
  ])('when the config is %s, then the error names the key: %s', async (name, message) => {
    await expect(loadConfig(fixture(name), {})).rejects.toThrow(new ConfigError(`${fixture(name)}: ${message}`));
  });

  test.each([
    [{ source: { type: 'simulator', stpe: '5m' } }, 'source.stpe: unknown key; did you mean step?'],
    [{ source: { type: 'simulator' }, model: { 'batch-size': 8 } }, 'model.batch-size: unknown key; did you mean batch_size?'],
    [
      { source: { type: 'simulator' }, profiles: { thresholds: { databse: { cpu: { warning: 50 } } } } },
      'profiles.thresholds.databse: unknown key; did you mean database?',
    ],
    [{ source: { type: 'simulator', url: 'http://prometheus:9090' } }, 'source.url: unknown key here; url belongs under source.prometheus'],
    [{ source: { type: 'promethues' } }, 'source.type: must be one of prometheus, simulator; did you mean prometheus?'],
  ])('when a key or value is a typo, then the error suggests what it likely meant: %j', async (raw, message) => {
    await expect(parseConfig(raw, 'x.yml')).rejects.toThrow(new ConfigError(`x.yml: ${message}`));
  });

  test('when the config has several problems, then each is named on its own line, not only the first', async () => {
    const raw = { source: { type: 'simulator', simulator: { sped: 60 } }, model: { device: 'gpu', workres: 2 }, forecast: { percentiles: [50, 150] } };
    await expect(parseConfig(raw, 'x.yml')).rejects.toThrow(
      new ConfigError(
        [
          'x.yml: 4 problems:',
          '  source.simulator.sped: unknown key; did you mean seed or speed?',
          '  model.device: must be one of auto, cuda, cpu',
          '  model.workres: unknown key; did you mean workers?',
          '  forecast.percentiles[1]: Too big: expected number to be <100',
        ].join('\n'),
      ),
    );
  });

  test('when profiles.thresholds overrides one key, then only that key changes and the rest keep their defaults', async () => {
    const { config } = await parseConfig({ source: { type: 'simulator' }, profiles: { thresholds: { database: { iowait: { warning: 10 } } } } }, 'x.yml');
    const t = resolveThresholds(config.profiles.thresholds);
    expect(t.database.iowait).toEqual({ ...DEFAULT_THRESHOLDS.database.iowait, warning: 10 });
    expect(t.database.cpu).toEqual(DEFAULT_THRESHOLDS.database.cpu);
    expect(t.web_api).toEqual(DEFAULT_THRESHOLDS.web_api);
  });

  test('when the file does not exist, then the error names it', async () => {
    await expect(loadConfig('/nonexistent/foresight.yml', {})).rejects.toThrow(new ConfigError('/nonexistent/foresight.yml: cannot read (ENOENT)'));
  });

  test('when the document is not a mapping, then the error says so', async () => {
    await expect(parseConfig(['a'], 'x.yml')).rejects.toThrow(new ConfigError('x.yml: (root): must be a mapping of keys to values'));
  });
});

describe('example configs in provisioning/foresight', () => {
  const dir = path.join(__dirname, '..', '..', 'provisioning', 'foresight');
  const examples = readdirSync(dir).filter((f) => f.endsWith('.yml'));
  test('the examples are all there', () =>
    expect(examples).toEqual(
      expect.arrayContaining(['foresight.yml', 'foresight-gpu.yml', 'thanos.yml', 'mimir.yml', 'victoriametrics.yml', 'simulator.yml']),
    ));
  test.each(examples)('when %s is validated, then it passes the schema', async (name) => {
    const r = ConfigSchema.safeParse(parse(await readFile(path.join(dir, name), 'utf8')));
    expect(r.success ? 'ok' : JSON.stringify(r.error.issues[0])).toBe('ok');
  });
});
