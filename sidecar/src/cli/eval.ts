/** `foresight eval`: the standard forecasting evaluation of the model against baselines (npm run eval). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runEval } from '../eval/run';
import type { CliContext } from './context';
import { UsageError } from './errors';

/** The real traces: $FORESIGHT_DATA, else the `shared/data` folder beside the checkout (the training scripts' default). */
export function defaultDataDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env['FORESIGHT_DATA'] || path.join(path.dirname(repoRoot), 'shared', 'data');
}

export function addEvalCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('eval')
    .description(
      'rolling-origin MASE, coverage and pinball of the model on its held-out hosts against last value, seasonal naive, predict_linear and augurs; level-shift and ramp cases; writes EVAL.md',
    )
    .option('--model <dir>', 'model directory', path.join(repoRoot, 'models', 'foresight-tft'))
    .option(
      '--data <dir>',
      'real traces, one folder per source (default: $FORESIGHT_DATA, else shared/data beside the checkout, as in training)',
      defaultDataDir(repoRoot),
    )
    .option('--sources <list>', 'only these real sources (comma-separated; default: every source the model was trained on)')
    .option('--simulator-csv <file>', 'simulator history the model was trained with', path.join(repoRoot, 'models', 'train', '.work', 'simulator-0.csv'))
    .option('--stride <steps>', 'steps between forecast origins on a series (12 = hourly)', '12')
    .option('--shape-cases <n>', 'level-shift and ramp cases each (0: none)', '240')
    .option(
      '--out <dir>',
      'where EVAL.md and its charts go (default: the model directory; model.json, and for the shipped model the summary in docs/model.md, are updated only then)',
    )
    .action(async (f: { model: string; data: string; sources?: string; simulatorCsv: string; stride: string; shapeCases: string; out?: string }) => {
      const stride = Number(f.stride);
      const shapeCases = Number(f.shapeCases);
      if (!Number.isInteger(stride) || stride < 1) throw new UsageError(`--stride must be a whole number ≥ 1 (got "${f.stride}")`);
      if (!Number.isInteger(shapeCases) || shapeCases < 0) throw new UsageError(`--shape-cases must be a whole number ≥ 0 (got "${f.shapeCases}")`);
      const sources = f.sources?.split(',').filter(Boolean);
      for (const s of sources ?? []) if (!existsSync(path.join(f.data, s))) throw new UsageError(`--sources: ${path.join(f.data, s)} does not exist`);
      const shipped = path.join(repoRoot, 'models', 'foresight-tft');
      await runEval({
        repoRoot,
        modelDir: f.model,
        dataDir: f.data,
        simulatorCsv: existsSync(f.simulatorCsv) ? f.simulatorCsv : undefined,
        stride,
        shapeCases,
        outDir: f.out ?? f.model,
        updateManifest: f.out === undefined,
        updateDocs: f.out === undefined && sources === undefined && path.resolve(f.model) === shipped,
        ...(sources ? { sources } : {}),
        log: (m) => ctx.stderr.write(`eval: ${m}\n`),
      });
      ctx.stdout.write(`wrote ${path.join(f.out ?? f.model, 'EVAL.md')}\n`);
    });
}
