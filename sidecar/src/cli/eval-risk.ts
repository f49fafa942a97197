/** `foresight eval-risk` (npm run eval:risk): see eval/risk.ts. */
import type { Command } from 'commander';
import { runRiskEval } from '../eval/risk';
import type { CliContext } from './context';

export function addRiskEvalCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('eval-risk')
    .description('replay simulated days with incidents through forecast + risk; writes docs/eval-risk.md and a PNG timeline')
    .action(async () => {
      const { markdown } = await runRiskEval(repoRoot, (m) => ctx.stderr.write(`eval:risk: ${m}\n`));
      ctx.stdout.write(markdown);
    });
}
