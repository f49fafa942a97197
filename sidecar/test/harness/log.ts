/** The sidecar's logfmt lines (`ts=… level=… msg="…"`) read back, for tests that check what the log says. */
export interface LogEntry {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
}

const VALUE = /([a-z]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;

function unescape(v: string): string {
  return v.replace(/\\(u[0-9a-f]{4}|.)/g, (_, c: string) =>
    c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c,
  );
}

/** Every logfmt line of `output` (other lines, like the start banner, are skipped). */
export function logEntries(output: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('ts=')) continue;
    const kv: Record<string, string> = {};
    for (const m of line.matchAll(VALUE)) kv[m[1]!] = m[2] !== undefined ? unescape(m[2]) : m[3]!;
    out.push({ ts: kv['ts'] ?? '', level: kv['level'] ?? '', msg: kv['msg'] ?? '' });
  }
  return out;
}

/** The messages alone, one per line, so a test can match `^…$` with the m flag. */
export function logMessages(output: string): string {
  return logEntries(output)
    .map((e) => e.msg)
    .join('\n');
}
