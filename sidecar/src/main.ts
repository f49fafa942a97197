#!/usr/bin/env node
/**
 * Process handling for the `foresight` CLI, and only here: argv, signals, exit codes.
 * Exit codes: 0 success, 1 failure at run time, 2 bad usage or bad input (flag, value, config).
 */
import { CommanderError } from 'commander';
import { buildProgram } from './cli/program';
import { RunError, UsageError } from './cli/errors';
import type { CliContext } from './cli/context';
import { formatLogLine } from './app/log';

async function main(argv: string[]): Promise<number> {
  let shutdown: () => void = () => undefined;
  const shutdownRequested = new Promise<void>((resolve) => (shutdown = resolve));
  let shutdownTimeout = 10;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      process.stderr.write(`${formatLogLine(`${sig}: shutting down (at most ${shutdownTimeout} s)`, 'info', Date.now())}\n`);
      // the bound holds whatever the command is stuck on; unref'd: a clean shutdown exits sooner
      setTimeout(() => {
        process.stderr.write(`${formatLogLine(`shutdown took longer than ${shutdownTimeout} s; exiting now`, 'warn', Date.now())}\n`);
        process.exit(0);
      }, shutdownTimeout * 1000).unref();
      shutdown();
    });
  }
  let reload: () => void = () => process.stderr.write('SIGHUP: nothing to reload\n');
  process.on('SIGHUP', () => reload());
  const ctx: CliContext = {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stderr.isTTY === true,
    now: () => Date.now() / 1000,
    untilShutdown: () => shutdownRequested,
    setShutdownTimeout: (seconds) => (shutdownTimeout = seconds),
    onReload: (fn) => (reload = fn),
    env: process.env,
  };
  try {
    await buildProgram(ctx).parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`foresight: ${e.message}\n`);
      return 2;
    }
    if (e instanceof RunError) {
      process.stderr.write(`foresight: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`foresight: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // Normally the process ends here by itself once output is flushed. The inference worker
    // thread (onnxruntime) can keep it alive after the command is done: exit after a grace
    // period in that case, without cutting off pending output before it.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (e: unknown) => {
    process.stderr.write(`foresight: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
