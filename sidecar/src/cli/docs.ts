/** `foresight docs`: rewrites the README's configuration reference from the schema. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { withReference } from '../config/reference';
import type { CliContext } from './context';

export function addDocsCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('docs')
    .description("regenerate the README's configuration reference from the config schema")
    .action(async () => {
      const readme = path.join(repoRoot, 'README.md');
      await writeFile(readme, withReference(await readFile(readme, 'utf8')));
      ctx.stdout.write(`updated ${readme}\n`);
    });
}
