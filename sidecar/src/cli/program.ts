/** The `foresight` command line: one commander program, a subcommand per file. */
import { Command } from 'commander';
import type { CliContext } from './context';
import path from 'node:path';
import { addSimulateCommand } from './simulate';
import { addEvalCommand } from './eval';

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
  addSimulateCommand(program, ctx);
  // dist/cli -> repository root
  addEvalCommand(program, ctx, path.resolve(__dirname, '..', '..', '..'));
  return program;
}
