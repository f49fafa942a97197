import type { Writable } from 'node:stream';

/** What a CLI command may use of the process; main.ts provides it, tests provide their own. */
export interface CliContext {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly isTTY: boolean;
  /** Unix seconds. */
  now(): number;
  /** Resolves on SIGTERM/SIGINT (long-running commands await it, then clean up). */
  untilShutdown(): Promise<void>;
  /** After SIGTERM/SIGINT the process exits with status 0 at the latest this many seconds later (default 10), cleaned up or not. */
  setShutdownTimeout(seconds: number): void;
  /** Registers what SIGHUP does (reload). */
  onReload(fn: () => void): void;
  readonly env: NodeJS.ProcessEnv;
}
