/**
 * The configuration reference, generated from the schema's own descriptions and defaults
 * (documentation generated from code): the table in docs/configuration.md is this function's output, and a test
 * fails when that page is stale (`npm run docs` rewrites it).
 */
import type { z } from 'zod';
import { ConfigSchema, DURATION_SCHEMAS, SIZE_SCHEMAS } from './schema';
import { replaceBlock } from '../docs/blocks';

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

type AnySchema = z.ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  out?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  valueType?: AnySchema;
  entries?: Record<string, string>;
  defaultValue?: unknown;
  format?: string;
}

function defOf(s: AnySchema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

function describe(s: AnySchema): string | undefined {
  return (s as unknown as { description?: string }).description;
}

/** Unwraps optional/default/prefault/pipe layers: the core schema, its description and default. */
function unwrap(s: AnySchema): { core: AnySchema; description?: string; dflt?: unknown; optional: boolean; duration: boolean; size: boolean } {
  let cur = s;
  let duration = DURATION_SCHEMAS.has(s);
  let size = SIZE_SCHEMAS.has(s);
  let description = describe(s);
  let dflt: unknown;
  let optional = false;
  for (;;) {
    const d = defOf(cur);
    if (d.type === 'optional') optional = true;
    if ((d.type === 'default' || d.type === 'prefault') && dflt === undefined)
      dflt = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
    const next = d.type === 'pipe' ? d.in : d.innerType;
    if (!next || !['optional', 'default', 'prefault', 'pipe', 'nullable', 'readonly'].includes(d.type)) break;
    cur = next;
    description ??= describe(cur);
    duration ||= DURATION_SCHEMAS.has(cur);
    size ||= SIZE_SCHEMAS.has(cur);
  }
  return { core: cur, description, dflt, optional, duration, size };
}

function typeName(s: AnySchema): string {
  const d = defOf(s);
  switch (d.type) {
    case 'string':
      return d.format === 'url' ? 'URL' : 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return Object.values(d.entries ?? {}).join(' \\| ');
    case 'array':
      return `list of ${typeName(unwrap(d.element!).core)}`;
    case 'record':
      return `map of ${typeName(unwrap(d.valueType!).core)}`;
    case 'object':
      return 'mapping';
    default:
      return d.type;
  }
}

function walk(s: AnySchema, prefix: string, rows: Row[]): void {
  const shape = defOf(s).shape ?? {};
  for (const [key, child] of Object.entries(shape)) {
    const { core, description, dflt, optional, duration, size } = unwrap(child);
    const full = prefix ? `${prefix}.${key}` : key;
    const d = defOf(core);
    if (d.type === 'object') {
      rows.push({ key: full, type: 'mapping', default: optional ? '(none)' : '', description: description ?? '' });
      walk(core, full, rows);
    } else if (d.type === 'array' && defOf(unwrap(d.element!).core).type === 'object') {
      rows.push({ key: full, type: 'list', default: optional ? '(none)' : JSON.stringify(dflt ?? []), description: description ?? '' });
      walk(unwrap(d.element!).core, `${full}[]`, rows);
    } else {
      const shown = dflt === undefined ? (optional ? '(none)' : '(required)') : typeof dflt === 'string' ? dflt : JSON.stringify(dflt);
      rows.push({ key: full, type: duration ? 'duration' : size ? 'size' : typeName(core), default: shown, description: description ?? '' });
    }
  }
}

export function configReference(): string {
  const rows: Row[] = [];
  walk(ConfigSchema, '', rows);
  const esc = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return (
    '| key | type | default | description |\n|---|---|---|---|\n' +
    rows
      .map(
        (r) =>
          `| \`${r.key}\` | ${r.type.includes('\\|') ? r.type : esc(r.type)} | ${r.default === '' ? '' : `\`${esc(r.default)}\``} | ${esc(r.description)} |`,
      )
      .join('\n') +
    '\n'
  );
}

/** The configuration page (docs/configuration.md) with its reference block replaced by the current one. */
export function withReference(page: string): string {
  return replaceBlock(page, 'config', configReference());
}
