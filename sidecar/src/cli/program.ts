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
  // what a user runs first; the rest serve the project's own development (they write its docs
  // and benchmarks, and need a clone of the repository with its models and tools)
  program.commandsGroup('Commands:');
  addServeCommand(program, ctx, repoRoot);
  addSimulateCommand(program, ctx);
  program.commandsGroup('Developer commands (run in a clone of the repository):');
  addEvalCommand(program, ctx, repoRoot);
  addBenchCommand(program, ctx, repoRoot);
  addPrometheusBenchCommand(program, ctx, repoRoot);
  addDocsCommand(program, ctx, repoRoot);
  addK8sCommand(program, ctx, repoRoot);
  addRiskEvalCommand(program, ctx, repoRoot);
  program.commandsGroup('Commands:').helpCommand(true);
  return program;
}
