/**
 * Parses Prometheus query_range answers off the main thread. A 5,000-instance answer is ~32 MB
 * of JSON: JSON.parse on the event loop stalled /metrics for up to a second per metric. Here the
 * parse runs in its own thread and the series come back packed into three transferred typed
 * arrays (no object per sample crosses the thread boundary).
 *
 * Message in:  { id, body: Uint8Array } (the response body, transferred)
 * Message out: { id, packed: PackedMatrix } | { id, error: string }
 *
 * Values are read strictly (validate.ts): junk is NaN and counted per series in `invalid`.
 */
import { parentPort } from 'node:worker_threads';
import type { PackedMatrix } from './matrix';
import { parseSampleValue } from './validate';

interface Answer {
  status?: string;
  data?: { resultType?: string; result?: Array<{ metric?: Record<string, string>; values?: Array<[unknown, unknown]> }> };
}

parentPort?.on('message', (m: { id: number; body: Uint8Array }) => {
  const text = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength).toString('utf8');
  let parsed: Answer;
  try {
    parsed = JSON.parse(text) as Answer;
  } catch {
    parentPort!.postMessage({ id: m.id, error: `not JSON: ${text.slice(0, 200)}` });
    return;
  }
  const result = parsed.data?.result;
  if (parsed.status !== 'success' || parsed.data?.resultType !== 'matrix' || !Array.isArray(result)) {
    parentPort!.postMessage({ id: m.id, error: `not a success matrix: ${text.slice(0, 200)}` });
    return;
  }
  let points = 0;
  for (const s of result) points += Array.isArray(s.values) ? s.values.length : 0;
  const offsets = new Uint32Array(result.length + 1);
  const times = new Float64Array(points);
  const values = new Float64Array(points);
  const invalid = new Uint32Array(result.length);
  const labels: Array<Record<string, string>> = [];
  let k = 0;
  result.forEach((s, i) => {
    labels.push(s.metric ?? {});
    offsets[i] = k;
    for (const p of s.values ?? []) {
      // a sample that is not a [time, "value"] pair is junk too
      const pair = Array.isArray(p) ? p : [];
      times[k] = typeof pair[0] === 'number' ? pair[0] : NaN;
      // NaN, ±Inf and junk ("", "null", "0x10", a bare number) stay non-finite: the caller
      // drops and counts them, junk apart from NaN/±Inf
      const v = parseSampleValue(pair[1]);
      values[k] = v.value;
      if (v.invalid) invalid[i]!++;
      k++;
    }
  });
  offsets[result.length] = k;
  const packed: PackedMatrix = { labels, offsets, times, values, invalid };
  parentPort!.postMessage({ id: m.id, packed }, [offsets.buffer, times.buffer, values.buffer, invalid.buffer] as ArrayBuffer[]);
});
