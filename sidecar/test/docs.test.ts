/** Generated documentation stays in step with the code, and the docs' links lead somewhere. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configReference, withReference } from '../src/config/reference';
import { GENERATED_BLOCKS, blockEnd, blockStart, linkFrom, replaceBlock, writeBlock } from '../src/docs/blocks';
import type { BlockKey } from '../src/docs/blocks';
import { ALL_SERIES } from '../src/exporter/metrics';

const REPO = path.join(__dirname, '..', '..');
const read = (rel: string): string => readFileSync(path.join(REPO, rel), 'utf8');
/** README.md and every page under docs/, relative to the repository root. */
const PAGES = [
  'README.md',
  ...readdirSync(path.join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

test('when the config schema changes, then docs/configuration.md must be regenerated (npm run docs)', () => {
  const page = read(GENERATED_BLOCKS.config);
  expect(withReference(page)).toBe(page);
  expect(page).toContain(configReference());
});

test.each(Object.entries(GENERATED_BLOCKS) as Array<[BlockKey, string]>)(
  'when %s writes its block, then %s has that block exactly once and no other page has it',
  (key, file) => {
    const count = (text: string, s: string): number => text.split(s).length - 1;
    for (const page of PAGES) {
      const text = read(page);
      const want = page === file ? 1 : 0;
      expect({ page, start: count(text, blockStart(key)), end: count(text, blockEnd(key)) }).toEqual({ page, start: want, end: want });
    }
  },
);

test('when a block is replaced, then only the text between its markers changes; a missing block is an error naming the file', () => {
  const text = 'before\n<!-- bench:start -->\nold\n<!-- bench:end -->\nafter\n';
  expect(replaceBlock(text, 'bench', '| new |\n')).toBe('before\n<!-- bench:start -->\n| new |\n<!-- bench:end -->\nafter\n');
  expect(() => replaceBlock('no markers here', 'bench', 'x')).toThrow('docs/scaling.md has no <!-- bench:start --> … <!-- bench:end --> block');
});

test('when a bench writes its table into a checkout, then the page named for it gets the table and the rest of the page stays', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'foresight-docs-'));
  try {
    await mkdir(path.join(root, 'docs'));
    await writeFile(path.join(root, 'docs', 'scaling.md'), '# Scaling\n\n<!-- bench-prometheus:start -->\nold\n<!-- bench-prometheus:end -->\n\nprose\n');
    expect(await writeBlock(root, 'bench-prometheus', '| a |\n')).toBe(path.join(root, 'docs', 'scaling.md'));
    expect(await readFile(path.join(root, 'docs', 'scaling.md'), 'utf8')).toBe(
      '# Scaling\n\n<!-- bench-prometheus:start -->\n| a |\n<!-- bench-prometheus:end -->\n\nprose\n',
    );
    await expect(writeBlock(root, 'bench', '| b |\n')).rejects.toThrow('docs/scaling.md has no <!-- bench:start --> … <!-- bench:end --> block');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('when a generated block links into the repository, then the link is relative to the page that holds it', () => {
  expect(linkFrom('eval', 'models/foresight-tft/EVAL.md')).toBe('../models/foresight-tft/EVAL.md');
});

test('when the docs name published series, then every one exists in the metrics module', () => {
  const defined = new Set(ALL_SERIES.map((s) => s.name));
  const missing: string[] = [];
  for (const page of PAGES) {
    const named = new Set([...read(page).matchAll(/`(foresight_[a-z_]+)`/g)].map((m) => m[1]!).filter((n) => !n.startsWith('foresight_simulator_')));
    for (const n of named) if (!defined.has(n)) missing.push(`${page}: ${n}`);
  }
  expect(missing).toEqual([]);
});

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = fence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative link targets of a page (inline links and images), outside code. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

test('when README.md or a docs page links into the repository, then the file exists and so does the heading it names', () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    for (const target of links(read(page))) {
      const [file, fragment] = target.split('#', 2) as [string, string | undefined];
      const resolved = file === '' ? path.join(REPO, page) : path.resolve(path.dirname(path.join(REPO, page)), decodeURIComponent(file));
      if (!resolved.startsWith(REPO + path.sep) && resolved !== REPO) {
        broken.push(`${page}: ${target} (outside the repository)`);
      } else if (!existsSync(resolved)) {
        broken.push(`${page}: ${target} (no such file)`);
      } else if (
        fragment !== undefined &&
        !(statSync(resolved).isFile() && resolved.endsWith('.md') && anchors(readFileSync(resolved, 'utf8')).has(fragment))
      ) {
        broken.push(`${page}: ${target} (no such heading)`);
      }
    }
  }
  expect(broken).toEqual([]);
});

test('when a page links to a missing file or heading, then the link check reports it', () => {
  expect(links('see [a](docs/a.md#b), ![img](x.png), [web](https://example.org), `[not](code.md)`')).toEqual(['docs/a.md#b', 'x.png']);
  expect([...anchors('# The model\n## How good is the forecast? (`npm run eval`)\n```\n# not a heading\n```\n## Scaling out\n## Scaling out')]).toEqual([
    'the-model',
    'how-good-is-the-forecast-npm-run-eval',
    'scaling-out',
    'scaling-out-1',
  ]);
});
