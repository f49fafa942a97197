/**
 * Generated sections of the documentation: blocks between `<!-- key:start -->` and
 * `<!-- key:end -->` that a command rewrites (`npm run docs`, `npm run bench`,
 * `npm run bench:prometheus`, `npm run eval`). Each block lives in one file under docs/; this
 * table is the one place that says which.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where each generated block lives, relative to the repository root. */
export const GENERATED_BLOCKS = {
  /** The configuration reference (`npm run docs`, from the config schema). */
  config: 'docs/configuration.md',
  /** CPU cycle cost at 20 / 1,000 / 5,000 instances (`npm run bench`). */
  bench: 'docs/scaling.md',
  /** The GPU table (`npm run bench -- --device cuda`), written only when CUDA served. */
  'bench-gpu': 'docs/scaling.md',
  /** The sidecar against a real Prometheus (`npm run bench:prometheus`). */
  'bench-prometheus': 'docs/scaling.md',
  /** The model's CPU inference against augurs AutoETS (`npm run bench -- --inference`). */
  'bench-inference': 'docs/model.md',
  /** The accuracy summary (`npm run eval`). */
  eval: 'docs/model.md',
} as const;

export type BlockKey = keyof typeof GENERATED_BLOCKS;

export const blockStart = (key: BlockKey): string => `<!-- ${key}:start -->`;
export const blockEnd = (key: BlockKey): string => `<!-- ${key}:end -->`;

/**
 * `text` with its `key` block's content replaced by `md`. Throws when the file lacks the block
 * (or has it twice), so a writer never drops its output silently after a docs reorganisation.
 */
export function replaceBlock(text: string, key: BlockKey, md: string, file: string = GENERATED_BLOCKS[key]): string {
  const start = blockStart(key);
  const end = blockEnd(key);
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no ${start} … ${end} block`);
  if (text.indexOf(start, i + 1) >= 0 || text.indexOf(end, j + 1) >= 0) throw new Error(`${file} has the ${start} … ${end} block more than once`);
  const body = md.endsWith('\n') ? md : `${md}\n`;
  return text.slice(0, i + start.length) + '\n' + body + text.slice(j);
}

/** The path of `target` (relative to the repository root) as a link from the file that holds `key`. */
export function linkFrom(key: BlockKey, target: string): string {
  return path.posix.relative(path.posix.dirname(GENERATED_BLOCKS[key]), target);
}

/** Rewrites the `key` block of its file in the checkout at `repoRoot`; returns the file's path. */
export async function writeBlock(repoRoot: string, key: BlockKey, md: string): Promise<string> {
  const file = path.join(repoRoot, GENERATED_BLOCKS[key]);
  await writeFile(file, replaceBlock(await readFile(file, 'utf8'), key, md));
  return file;
}
