/**
 * Start-up and shutdown bookkeeping for the app: an ordered list of cleanups undone in reverse,
 * each bounded in time, why a cycle in flight was aborted, and the one-reload-at-a-time rule.
 */
import { ReloadInProgressError } from '../api/server';

/** Why an in-flight cycle was aborted: the app is stopping, or a reload replaces the runtime it runs on. */
export class CycleAborted extends Error {
  override readonly name = 'CycleAborted';
  constructor(readonly why: 'shutdown' | 'reload') {
    super(`cycle aborted by ${why}`);
  }
}

/** Resolves with true when `p` settles within `ms`, false when the time ran out first (p keeps running). */
export async function settlesWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!p) return true;
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), Math.max(0, ms));
    }),
  ]);
  clearTimeout(timer);
  return done;
}

interface Cleanup {
  readonly name: string;
  readonly run: () => Promise<void> | void;
}

/**
 * What start-up did, to be undone in reverse order. `run` is idempotent: the first call runs every
 * cleanup once (each given at most `perStepMs`; a step that fails or overruns is reported and the
 * next one runs anyway), later calls return the same promise.
 */
export class Cleanups {
  private readonly steps: Cleanup[] = [];
  private running: Promise<string[]> | undefined;

  /** Registers what undoes a step of start-up; after run() has begun (a stop during start-up), it runs at once. */
  add(name: string, run: () => Promise<void> | void): void {
    if (this.running) {
      void (async () => run())().catch(() => undefined);
      return;
    }
    this.steps.push({ name, run });
  }

  /** Runs the cleanups last-added first; resolves with the names of those that failed or overran. */
  run(perStepMs: number, report: (name: string, problem: string) => void): Promise<string[]> {
    this.running ??= (async () => {
      const problems: string[] = [];
      for (const step of [...this.steps].reverse()) {
        let error: unknown;
        const p = (async () => step.run())().catch((e: unknown) => void (error = e ?? new Error('failed')));
        if (!(await settlesWithin(p, perStepMs))) {
          problems.push(step.name);
          report(step.name, `still running after ${perStepMs} ms; carrying on`);
        } else if (error !== undefined) {
          problems.push(step.name);
          report(step.name, error instanceof Error ? error.message : JSON.stringify(error));
        }
      }
      return problems;
    })();
    return this.running;
  }
}

/**
 * Reloads one at a time. `now()` runs one, or is refused with ReloadInProgressError while one
 * runs (the HTTP endpoint answers 409); `request()` (SIGHUP) runs one now or, when one is
 * running, once more after it: requests made meanwhile collapse into one.
 */
export class ReloadGate {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly reload: () => Promise<void>,
    /** Whether the app is stopping: a queued request is then dropped. */
    private readonly stopped: () => boolean,
    private readonly log: (line: string) => void,
  ) {}

  /** The reload in flight, if any (shutdown waits for it). */
  get inFlight(): Promise<void> | undefined {
    return this.running;
  }

  now(): Promise<void> {
    if (this.running) return Promise.reject(new ReloadInProgressError());
    const p = this.reload().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  request(): void {
    if (this.running) {
      this.again = true;
      this.log('reload requested while one runs: it follows once that one is done');
      return;
    }
    this.now()
      .catch(() => undefined) // the reload logs its own failure; the previous config and model keep serving
      .finally(() => {
        if (this.again && !this.stopped()) {
          this.again = false;
          this.request();
        }
      });
  }
}
