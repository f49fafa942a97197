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

/** The few keys people change per deployment: the key each variable sets, and what else it implies. */
const ENV_KEYS: Readonly<
  Record<string, { readonly path: readonly string[]; readonly implies?: { readonly path: readonly string[]; readonly value: string } }>
> = {
  FORESIGHT_PROMETHEUS_URL: { path: ['source', 'prometheus', 'url'], implies: { path: ['source', 'type'], value: 'prometheus' } },
  FORESIGHT_LISTEN: { path: ['listen'] },
  FORESIGHT_MODEL: { path: ['model', 'path'] },
};

/** Each environment variable and the config key it overrides, as `serve --help` lists them. */
export const ENV_OVERRIDES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ENV_KEYS).map(([name, k]) => [name, k.path.join('.') + (k.implies ? ` (and ${k.implies.path.join('.')}: ${k.implies.value})` : '')]),
);

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

/** What load.ts reads of a zod schema's definition to find the keys allowed at a path. */
interface SchemaDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly keyType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly entries?: Record<string, string | number>;
}

function defOf(s: z.ZodType): SchemaDef {
  return (s as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The schema under optional/default/prefault/pipe layers. */
function coreOf(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    const next = d.type === 'pipe' ? d.in : ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(d.type) ? d.innerType : undefined;
    if (!next) return s;
    s = next;
  }
}

/** The schema at a config path (numbers index lists), or undefined where it has none. */
function schemaAt(path: ReadonlyArray<PropertyKey>): z.ZodType | undefined {
  let cur: z.ZodType | undefined = ConfigSchema;
  for (const p of path) {
    if (!cur) return undefined;
    const d = defOf(coreOf(cur));
    cur = d.type === 'object' ? d.shape?.[String(p)] : d.type === 'array' ? d.element : d.type === 'record' ? d.valueType : undefined;
  }
  return cur && coreOf(cur);
}

/** The keys a mapping at this schema may have (an object's keys, or a record's enum keys). */
function keysOf(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  const d = defOf(coreOf(s));
  if (d.type === 'object') return Object.keys(d.shape ?? {});
  if (d.type === 'record' && d.keyType && defOf(coreOf(d.keyType)).type === 'enum') return Object.values(defOf(coreOf(d.keyType)).entries ?? {}).map(String);
  return [];
}

/** Every key path of the schema (lists as [], records skipped), to say where a misplaced key belongs. */
function allKeyPaths(s: z.ZodType, prefix: string, out: string[] = []): string[] {
  const d = defOf(coreOf(s));
  if (d.type === 'array' && d.element) allKeyPaths(d.element, `${prefix}[]`, out);
  if (d.type !== 'object') return out;
  for (const [k, child] of Object.entries(d.shape ?? {})) {
    const full = prefix ? `${prefix}.${k}` : k;
    out.push(full);
    allKeyPaths(child, full, out);
  }
  return out;
}

/** Optimal string alignment distance (edits, with a swap of neighbours as one edit). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The allowed words a typo most likely meant: the same but for case or `-` for `_`, else the
 * closest few edits away ("seed or speed" for sped); undefined when none is close.
 */
export function likelyMatch(word: string, allowed: readonly string[]): string | undefined {
  const norm = (w: string): string => w.toLowerCase().replace(/-/g, '_');
  const w = norm(word);
  let best: string[] = [];
  let bestDistance = Infinity;
  for (const a of allowed) {
    const distance = editDistance(w, norm(a));
    // one edit from a 4-letter word, two from a 7-letter one; none for 3 letters (gpu is not cpu)
    if (distance > Math.floor((Math.min(w.length, a.length) - 1) / 3) || distance > bestDistance) continue;
    if (distance < bestDistance) best = [];
    best.push(a);
    bestDistance = distance;
  }
  return best.length > 0 ? best.join(' or ') : undefined;
}

/** An unknown key: the likely match, where it belongs if it is a key elsewhere, or the keys allowed here. */
function describeUnknownKey(path: ReadonlyArray<PropertyKey>, key: string): string {
  const where = formatPath([...path, key]);
  const allowed = keysOf(schemaAt(path));
  const match = likelyMatch(key, allowed);
  if (match !== undefined) return `${where}: unknown key; did you mean ${match}?`;
  const prefix = formatPath(path).replace(/\[\d+\]/g, '[]');
  const elsewhere = allKeyPaths(ConfigSchema, '').filter((p) => p.split('.').pop() === key && p !== (prefix === '(root)' ? key : `${prefix}.${key}`));
  if (elsewhere.length > 0)
    return `${where}: unknown key here; ${key} belongs under ${elsewhere.map((p) => p.slice(0, -key.length - 1) || '(root)').join(' or ')}`;
  return `${where}: unknown key (allowed here: ${allowed.join(', ')})`;
}

function valueAt(obj: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur = obj;
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[p] : undefined;
  return cur;
}

/** Where a path is in the document, as the index of each key among its siblings (file order). */
function positionOf(obj: unknown, path: ReadonlyArray<PropertyKey>): number[] {
  const out: number[] = [];
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') break;
    const i = Array.isArray(cur) ? Number(p) : Object.keys(cur).indexOf(String(p));
    out.push(i < 0 ? Infinity : i);
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return out;
}

function comparePositions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

/** Every problem, one line each naming the key and the rule, in the order of the document. */
function describeIssues(issues: readonly z.core.$ZodIssue[], obj: unknown): string[] {
  const lines = issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ at: positionOf(obj, [...issue.path, k]), line: describeUnknownKey(issue.path, k) }))
      : [{ at: positionOf(obj, issue.path), line: describeIssue(issue, obj) }],
  );
  return lines.sort((a, b) => comparePositions(a.at, b.at)).map((l) => l.line);
}

/** A problem other than an unknown key, naming the key and the rule. */
function describeIssue(issue: Exclude<z.core.$ZodIssue, z.core.$ZodIssueUnrecognizedKeys>, obj: unknown): string {
  const where = formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    return / received undefined$/.test(issue.message)
      ? `${where}: required (${issue.expected})`
      : `${where}: must be a ${issue.expected} (${issue.message.replace(/^Invalid input: /, '')})`;
  }
  if (issue.code === 'invalid_value') {
    const got = valueAt(obj, issue.path);
    const match = typeof got === 'string' ? likelyMatch(got, issue.values.map(String)) : undefined;
    return `${where}: must be one of ${issue.values.map(String).join(', ')}${match !== undefined ? `; did you mean ${match}?` : ''}`;
  }
  if (issue.code === 'invalid_format' && issue.format === 'url') return `${where}: must be a URL like http://prometheus:9090`;
  return `${where}: ${issue.message}`;
}

/** The problems as one message: the only one on the line, or each on its own line under a count. */
function formatProblems(origin: string, problems: readonly string[]): string {
  const unique = [...new Set(problems)];
  if (unique.length === 1) return `${origin}: ${unique[0]!}`;
  return `${origin}: ${unique.length} problems:\n${unique.map((p) => `  ${p}`).join('\n')}`;
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
 * Throws ConfigError naming `origin` and every bad key.
 */
export async function parseConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = {}): Promise<LoadedConfig> {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError(`${origin}: (root): must be a mapping of keys to values`);
  }
  const obj = structuredClone((raw ?? {}) as Record<string, unknown>);
  for (const [name, k] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (!value) continue;
    if (k.implies) setPath(obj, k.implies.path, k.implies.value);
    setPath(obj, k.path, value);
  }
  const parsed = ConfigSchema.safeParse(obj);
  if (!parsed.success) throw new ConfigError(formatProblems(origin, describeIssues(parsed.error.issues, obj)));
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
  for (const [key, file] of [
    ['ca_file', p?.tls?.ca_file],
    ['cert_file', p?.tls?.cert_file],
    ['key_file', p?.tls?.key_file],
  ] as const) {
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
    throw new ConfigError(
      `${file}: YAML syntax${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  return parseConfig(doc.toJS() as unknown, file, env);
}
