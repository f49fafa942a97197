/** `foresight bench` (npm run bench): see bench/run.ts. */
import { Option } from 'commander';
import type { Command } from 'commander';
import { runInferenceBench } from '../bench/inference';
import path from 'node:path';
import { benchSize, isShipped, runBench } from '../bench/run';
import { writeBlock } from '../docs/blocks';
import type { CliContext } from './context';
import { UsageError } from './errors';

export function addBenchCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('bench')
    .description(
      'measure cycle time, inference throughput, event-loop lag and memory at 1,000 / 5,000 / 10,000 instances; updates the table in docs/scaling.md',
    )
    .option('--sizes <list>', 'fleet sizes', '1000,5000,10000')
    .option(
      '--device <device>',
      'cpu, cuda or auto (a GPU run writes the GPU table in docs/scaling.md, e.g. --device cuda --sizes 1000,10000,100000 --batch 1024)',
      'cpu',
    )
    .option('--batch <n>', 'rows per inference call: series, or servers for a contract-2 model', '8')
    .option(
      '--model <dir>',
      "model directory to measure (default: FORESIGHT_MODEL, else the shipped model); the docs' tables are written only for the shipped model",
    )
    .option('--inference', 'only the CPU inference part: series/s on 2 threads at the best batch, and augurs AutoETS on the same cores')
    // internal: one size in this process, its row as JSON on stdout (the bench runs each size so)
    .addOption(new Option('--one <n>').hideHelp())
    .action(async (f: { sizes: string; device: string; batch: string; inference?: boolean; model?: string; one?: string }) => {
      const chosen = f.model ?? process.env['FORESIGHT_MODEL'];
      const modelDir = chosen === undefined ? undefined : path.resolve(chosen);
      const inference = async (): Promise<void> => {
        const r = await runInferenceBench(repoRoot, (m) => ctx.stderr.write(`bench: ${m}\n`), { ...(modelDir ? { modelDir } : {}) });
        if (isShipped(repoRoot, modelDir)) ctx.stderr.write(`bench: wrote the table into ${await writeBlock(repoRoot, 'bench-inference', r.markdown)}\n`);
        ctx.stdout.write(r.markdown);
      };
      if (f.inference) return inference();
      if (f.one !== undefined) {
        const batch = Number(f.batch);
        const log = (m: string): void => void ctx.stderr.write(`bench: ${m}\n`);
        const row = await benchSize(Number(f.one), repoRoot, { device: 'cpu', batch, ...(modelDir ? { modelDir } : {}) }, log);
        ctx.stdout.write(row);
        return;
      }
      const sizes = f.sizes.split(',').map(Number);
      if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--sizes must be whole numbers (got "${f.sizes}")`);
      if (f.device !== 'cpu' && f.device !== 'cuda' && f.device !== 'auto') throw new UsageError(`--device must be cpu, cuda or auto (got "${f.device}")`);
      const batch = Number(f.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 65536) throw new UsageError(`--batch must be a whole number from 1 to 65536 (got "${f.batch}")`);
      ctx.stdout.write(
        await runBench(sizes, repoRoot, (m) => ctx.stderr.write(`bench: ${m}\n`), { device: f.device, batch, ...(modelDir ? { modelDir } : {}) }),
      );
      if (f.device === 'cpu') await inference();
    });
}
