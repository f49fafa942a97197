/** `foresight docs`: rewrites the configuration reference in docs/configuration.md from the schema. */
import type { Command } from 'commander';
import { configReference } from '../config/reference';
import { writeBlock } from '../docs/blocks';
import type { CliContext } from './context';

export function addDocsCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('docs')
    .description('regenerate the configuration reference in docs/configuration.md from the config schema')
    .action(async () => {
      const file = await writeBlock(repoRoot, 'config', configReference());
      ctx.stdout.write(`updated ${file}\n`);
    });
}
