/**
 * Loading `foresight.yml`: YAML, environment overrides, strict validation, secrets from files.
 * Every error names the file, the key and the rule; the result is deeply frozen.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema } from './schema';
import type { Config } from './schema';

/** A configuration that cannot be used; the message names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The few keys people change per deployment. */
export const ENV_OVERRIDES = {
  FORESIGHT_PROMETHEUS_URL: 'source.prometheus.url (and source.type: prometheus)',
  FORESIGHT_LISTEN: 'listen',
  FORESIGHT_MODEL: 'model.path',
} as const;

/**
 * Clock speed of the embedded default's simulated fleet (simulated seconds per wall second): a
 * 5-minute cycle every 5 s, so a scenario switch plays out over minutes, not hours.
 */
export const EMBEDDED_SPEED = 60;
/**
 * How long the embedded default's degrading and critical scenarios take to build up: over hours,
 * like a leak or a filling disk, so the forecast can see the stress coming before it is there
 * (a 15-minute jump gives no forecaster anything to see).
 */
export const EMBEDDED_BUILD_UP = '4h';

/** Secrets read from their files at load time. */
export interface Secrets {
  readonly basicAuthPassword?: string;
  readonly bearerToken?: string;
}

export interface LoadedConfig {
  readonly config: Config;
  readonly secrets: Secrets;
  /** Where it came from: a file path, or "embedded default". */
  readonly origin: string;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `${formatPath([...issue.path, issue.keys[0]!])}: unknown key (allowed here: see the configuration reference)`;
  }
  const where = formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    return / received undefined$/.test(issue.message) ? `${where}: required (${issue.expected})` : `${where}: must be a ${issue.expected} (${issue.message.replace(/^Invalid input: /, '')})`;
  }
  if (issue.code === 'invalid_value') return `${where}: must be one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'invalid_format' && issue.format === 'url') return `${where}: must be a URL like http://prometheus:9090`;
  return `${where}: ${issue.message}`;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o as Record<string, unknown>).forEach(deepFreeze);
    Object.freeze(o);
  }
  return o;
}

/**
 * Validates raw config (parsed YAML or an object) with environment overrides applied.
 * Throws ConfigError naming `origin` and the first bad key.
 */
export async function parseConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(`${origin}: (root): must be a mapping of keys to values`);
  }
  const obj = structuredClone((raw ?? {}) as Record<string, unknown>);
  if (env['FORESIGHT_PROMETHEUS_URL']) {
    setPath(obj, ['source', 'type'], 'prometheus');
    setPath(obj, ['source', 'prometheus', 'url'], env['FORESIGHT_PROMETHEUS_URL']);
  }
  if (env['FORESIGHT_LISTEN']) setPath(obj, ['listen'], env['FORESIGHT_LISTEN']);
  if (env['FORESIGHT_MODEL']) setPath(obj, ['model', 'path'], env['FORESIGHT_MODEL']);
  const parsed = ConfigSchema.safeParse(obj);
  if (!parsed.success) throw new ConfigError(`${origin}: ${describeIssue(parsed.error.issues[0]!)}`);
  const config = parsed.data;
  const secrets: { basicAuthPassword?: string; bearerToken?: string } = {};
  const p = config.source.type === 'prometheus' ? config.source.prometheus : undefined;
  const readSecret = async (key: string, file: string): Promise<string> => {
    try {
      const text = (await readFile(file, 'utf8')).trim();
      if (text === '') throw new ConfigError(`${origin}: ${key}: ${file} is empty`);
      return text;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`${origin}: ${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  };
  if (p?.basic_auth) secrets.basicAuthPassword = await readSecret('source.prometheus.basic_auth.password_file', p.basic_auth.password_file);
  if (p?.bearer_token_file) secrets.bearerToken = await readSecret('source.prometheus.bearer_token_file', p.bearer_token_file);
  for (const [key, file] of [['ca_file', p?.tls?.ca_file], ['cert_file', p?.tls?.cert_file], ['key_file', p?.tls?.key_file]] as const) {
    if (file) await readSecret(`source.prometheus.tls.${key}`, file);
  }
  return { config: deepFreeze(config), secrets: Object.freeze(secrets), origin };
}

/** Reads and validates a config file; with no file, the embedded default (simulated fleet). */
export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  if (file === undefined) {
    // embedded default: the simulated fleet on a fast clock, unless the environment points at a Prometheus
    return parseConfig({ source: { type: 'simulator', simulator: { speed: EMBEDDED_SPEED, build_up: EMBEDDED_BUILD_UP } } }, 'embedded default', env);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0];
    throw new ConfigError(`${file}: YAML syntax${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  return parseConfig(doc.toJS() as unknown, file, env);
}
