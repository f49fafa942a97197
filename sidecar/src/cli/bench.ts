/** `foresight bench` (npm run bench): see bench/run.ts. */
import type { Command } from 'commander';
import { runBench } from '../bench/run';
import type { CliContext } from './context';
import { UsageError } from './errors';

export function addBenchCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('bench')
    .description('measure cycle time, inference throughput, event-loop lag and memory at 20 / 1,000 / 5,000 instances; updates the README table')
    .option('--sizes <list>', 'fleet sizes', '20,1000,5000')
    .action(async (f: { sizes: string }) => {
      const sizes = f.sizes.split(',').map(Number);
      if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--sizes must be whole numbers (got "${f.sizes}")`);
      ctx.stdout.write(await runBench(sizes, repoRoot, (m) => ctx.stderr.write(`bench: ${m}\n`)));
    });
}
