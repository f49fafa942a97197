/**
 * Child processes for the benches and the tests (Prometheus, promtool, the built CLI): started as
 * direct children (so the PID is the process itself), output kept for error messages, stopped by
 * PID — and killed if this process exits first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ManagedProcess {
  readonly pid: number;
  /** Last 8 KiB of stdout+stderr. */
  output(): string;
  /** Resolves once the process has exited (SIGTERM, then SIGKILL after `killAfterMs`, default 5 s). Idempotent. */
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export function startProcess(
  command: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; killAfterMs?: number } = {},
): ManagedProcess {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  live.add(child);
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.once('error', (e) => {
      out += `\n${String(e)}`;
      live.delete(child);
      resolve(null);
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid,
    output: () => out,
    exited,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** A free TCP port on 127.0.0.1 (closed again before returning; the race is acceptable for tests and benches). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it returns a value (not undefined) or the time runs out; never sleeps blindly. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
