/**
 * The sidecar's log lines: logfmt as Prometheus writes it, one event per line,
 * `ts=2026-12-01T21:30:00.123Z level=info msg="cycle 2026-12-01 21:30Z: 20 instances …"`.
 * A person reads `msg`; a log pipeline splits on `key=value`.
 */

/** info: what the sidecar does; warn: something failed and it carries on; error: it could not do what it should. */
export type LogLevel = 'info' | 'warn' | 'error';

/** Where the app's events go: a message and its level (default info). */
export type Log = (msg: string, level?: LogLevel) => void;

/** A logfmt value: bare when it has no space, quote, `=` or control character; else double-quoted with `\` escapes. */
export function logfmtValue(v: string): string {
  if (v !== '' && !/[\s"=\\\p{Cc}]/u.test(v)) return v;
  return `"${v
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** One log line (without the newline) at wall-clock time `nowMs`. */
export function formatLogLine(msg: string, level: LogLevel, nowMs: number): string {
  return `ts=${new Date(nowMs).toISOString()} level=${level} msg=${logfmtValue(msg)}`;
}

/** A Log that writes logfmt lines to `write` (stderr in the CLI). */
export function logfmtLogger(write: (line: string) => void, nowMs: () => number = Date.now): Log {
  return (msg, level = 'info') => write(`${formatLogLine(msg, level, nowMs())}\n`);
}
