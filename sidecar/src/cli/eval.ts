/** `foresight eval`: the model's rolling-origin backtest against baselines (npm run eval). */
import path from 'node:path';
import type { Command } from 'commander';
import { runEval } from '../eval/run';
import type { CliContext } from './context';
import { UsageError } from './errors';

export function addEvalCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('eval')
    .description('backtest the model on held-out hosts against last value, seasonal naive, predict_linear and augurs; writes EVAL.md')
    .option('--model <dir>', 'model directory', path.join(repoRoot, 'models', 'foresight-tft'))
    .option('--data <dir>', 'real traces (../shared/data)', path.join(repoRoot, '..', 'shared', 'data'))
    .option('--simulator-csv <file>', 'simulator history the model was trained with', path.join(repoRoot, 'models', 'train', '.work', 'simulator-0.csv'))
    .option('--stride <steps>', 'steps between forecast origins on a host', '96')
    .option('--max-windows <n>', 'at most this many windows per group (evenly thinned)', '1500')
    .action(async (f: { model: string; data: string; simulatorCsv: string; stride: string; maxWindows: string }) => {
      const stride = Number(f.stride);
      const maxWindows = Number(f.maxWindows);
      if (!(stride >= 1) || !(maxWindows >= 1)) throw new UsageError('--stride and --max-windows must be numbers ≥ 1');
      const { existsSync } = await import('node:fs');
      await runEval({
        modelDir: f.model,
        dataDir: f.data,
        simulatorCsv: existsSync(f.simulatorCsv) ? f.simulatorCsv : undefined,
        stride,
        maxWindowsPerGroup: maxWindows,
        log: (m) => ctx.stderr.write(`eval: ${m}\n`),
      });
      ctx.stdout.write(`wrote ${path.join(f.model, 'EVAL.md')}\n`);
    });
}
