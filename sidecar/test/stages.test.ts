/**
 * Stages import forward only. The sidecar's folders follow the data, and a module may import
 * from its own stage or an earlier one, never from a later one:
 *
 *   (profiles, docs) → config → (series, http, threads, processes, pause) → simulator → source
 *   → forecast → risk → exporter → api → app → bench → eval → cli → main
 *
 * `profiles`, `config` and the shared helpers come first because every stage reads them; the
 * simulator comes before the source that reads it. Maths two stages share lives in a module
 * before both (series/: robust current value, line fit, steady climb), and a type belongs to
 * the stage that produces it. A new folder under src/ must be placed in STAGES before it can
 * import or be imported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The stage order; names on one line are one stage (they may import each other). */
const STAGES: readonly (readonly string[])[] = [
  // docs: the generated-block writer (config/reference.ts and the bench and eval reports use it)
  ['profiles', 'docs'],
  ['config'],
  ['series', 'http', 'threads', 'processes', 'pause'],
  ['simulator'],
  ['source'],
  ['forecast'],
  ['risk'],
  ['exporter'],
  ['api'],
  ['app'],
  ['bench'],
  ['eval'],
  ['cli'],
  ['main'],
];

const SRC = path.join(__dirname, '..', 'src');

/** The stage of a path relative to src/: its folder, or the file's name for a file at the top. */
function stageOf(rel: string): string {
  const [first, ...rest] = rel.split('/');
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!;
}

function rankOf(stage: string): number {
  return STAGES.findIndex((names) => names.includes(stage));
}

/** Every module specifier a file imports or re-exports (static, type-only, side-effect or dynamic). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const re of [/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of source.matchAll(re)) found.push(m[1]!);
  }
  return found;
}

/**
 * The imports that break the order, as "from → to" lines: an import of a later stage, of a file
 * outside src/ (another package's sources), or from or to a stage that is not in STAGES.
 */
function backArrows(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [rel, source] of files) {
    const from = stageOf(rel);
    if (rankOf(from) < 0) {
      problems.push(`${rel}: stage "${from}" is not in the stage order`);
      continue;
    }
    for (const spec of specifiers(source)) {
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
      if (target.startsWith('..')) {
        problems.push(`${rel} → ${spec}: outside sidecar/src`);
        continue;
      }
      const to = stageOf(target);
      if (rankOf(to) < 0) problems.push(`${rel} → ${target}: stage "${to}" is not in the stage order`);
      else if (rankOf(to) > rankOf(from)) problems.push(`${rel} → ${target}: ${from} imports the later stage ${to}`);
    }
  }
  return problems;
}

function sourceFiles(dir: string, base = ''): Map<string, string> {
  const files = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of sourceFiles(path.join(dir, e.name), rel)) files.set(k, v);
    else if (e.name.endsWith('.ts')) files.set(rel, readFileSync(path.join(dir, e.name), 'utf8'));
  }
  return files;
}

describe('stage order', () => {
  test('when the sidecar sources are read, then no module imports a later stage', () => {
    const files = sourceFiles(SRC);
    expect(files.size).toBeGreaterThan(50);
    expect(backArrows(files)).toEqual([]);
  });

  test('when a module imports a later stage, another package or an unplaced folder, then the check names it', () => {
    const files = new Map([
      ['forecast/climb.ts', "import type { A } from './contract';\nimport {\n  steadyClimb,\n} from '../risk/score';\n"],
      ['config/schema.ts', "export { SCENARIO_NAMES } from '../simulator/scenario';\n"],
      ['source/x.ts', "const m = await import('../app/app');\nimport '../api/server';\n"],
      ['risk/y.ts', "import { LEVELS } from '../../../plugin/src/levels';\nimport { z } from 'zod';\n"],
      ['extras/z.ts', "import { x } from '../forecast/forecaster';\n"],
      ['main.ts', "import { run } from './cli/program';\n"],
    ]);
    expect(backArrows(files)).toEqual([
      'forecast/climb.ts → risk/score: forecast imports the later stage risk',
      'config/schema.ts → simulator/scenario: config imports the later stage simulator',
      'source/x.ts → api/server: source imports the later stage api',
      'source/x.ts → app/app: source imports the later stage app',
      'risk/y.ts → ../../../plugin/src/levels: outside sidecar/src',
      'extras/z.ts: stage "extras" is not in the stage order',
    ]);
  });
});
