/** The `foresight` command line: one commander program, a subcommand per file. */
import { Command } from 'commander';
import type { CliContext } from './context';
import path from 'node:path';
import { addSimulateCommand } from './simulate';
import { addEvalCommand } from './eval';
import { addServeCommand } from './serve';
import { addBenchCommand } from './bench';
import { addPrometheusBenchCommand } from './bench-prometheus';
import { addDocsCommand } from './docs';
import { addK8sCommand } from './k8s';
import { addRiskEvalCommand } from './eval-risk';

export const VERSION = '0.1.0';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('foresight')
    .description('Foresight: predictive monitoring for Prometheus and Grafana')
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .exitOverride();
  // dist/cli (or src/cli) -> repository root
  const repoRoot = path.resolve(__dirname, '..', '..', '..');
  addServeCommand(program, ctx, repoRoot);
  addSimulateCommand(program, ctx);
  addEvalCommand(program, ctx, repoRoot);
  addBenchCommand(program, ctx, repoRoot);
  addPrometheusBenchCommand(program, ctx, repoRoot);
  addDocsCommand(program, ctx, repoRoot);
  addK8sCommand(program, ctx, repoRoot);
  addRiskEvalCommand(program, ctx, repoRoot);
  return program;
}
