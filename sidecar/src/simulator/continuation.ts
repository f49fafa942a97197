/**
 * Counters that continue a history: when the live simulator starts where a backfilled history
 * ends (the compose stack), its counters start from the last values Prometheus holds for each
 * server, not from fresh ones, so `rate()` sees no counter reset at the seam.
 */
import type { SimServer } from './fleet';
import type { NodeCounters } from './node-exporter';
import { CPU_MODES } from './node-exporter';

/** How far back the last values are looked for. */
const LOOKBACK = '30d';

interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

async function instantQuery(base: string, query: string, signal: AbortSignal): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', base.endsWith('/') ? base : `${base}/`);
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams({ query }), signal });
  const body = (await res.json()) as { status?: string; data?: { resultType?: string; result?: VectorSample[] }; error?: string };
  if (!res.ok || body.status !== 'success' || body.data?.resultType !== 'vector') throw new Error(`${url.origin}: ${body.error ?? `HTTP ${res.status}`}`);
  return body.data.result ?? [];
}

/**
 * The last value of every counter of `servers` that Prometheus at `url` holds (within 30 days),
 * per instance; instances it has nothing for are absent. Counters that are the same on every
 * core (CPU seconds per mode) take the largest core's value, so none of them goes backwards.
 */
export async function lastCounters(url: string, servers: readonly SimServer[], timeoutMs = 10_000): Promise<Map<string, Partial<CounterReadings>>> {
  const signal = AbortSignal.timeout(timeoutMs);
  const wanted = new Set(servers.map((s) => s.instance));
  const out = new Map<string, Partial<Mutable<CounterReadings>>>();
  const row = (instance: string): Partial<Mutable<CounterReadings>> => {
    let r = out.get(instance);
    if (!r) out.set(instance, (r = {}));
    return r;
  };
  const [cpu, rx, tx] = await Promise.all(
    ['node_cpu_seconds_total', 'node_network_receive_bytes_total', 'node_network_transmit_bytes_total'].map((m) =>
      instantQuery(url, `max by (instance, mode, device) (last_over_time(${m}[${LOOKBACK}]))`, signal),
    ),
  );
  for (const s of cpu!) {
    const instance = s.metric['instance'];
    const mode = CPU_MODES.indexOf(s.metric['mode'] as (typeof CPU_MODES)[number]);
    const v = Number(s.value[1]);
    if (instance === undefined || !wanted.has(instance) || mode < 0 || !Number.isFinite(v)) continue;
    const r = row(instance);
    const cpuSeconds = (r.cpuSeconds ??= new Array<number>(CPU_MODES.length).fill(NaN));
    cpuSeconds[mode] = Math.max(v, Number.isNaN(cpuSeconds[mode]!) ? -Infinity : cpuSeconds[mode]!);
  }
  for (const [samples, key, loKey] of [
    [rx!, 'rxBytes', 'loRxBytes'],
    [tx!, 'txBytes', 'loRxBytes'],
  ] as const) {
    for (const s of samples) {
      const instance = s.metric['instance'];
      const v = Number(s.value[1]);
      if (instance === undefined || !wanted.has(instance) || !Number.isFinite(v)) continue;
      const r = row(instance);
      // the simulator's lo counts the same bytes in and out: the larger of the two
      if (s.metric['device'] === 'lo') r[loKey] = Math.max(v, r[loKey] ?? -Infinity);
      else if (s.metric['device'] === 'eth0') r[key] = v;
    }
  }
  return out;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Counter values read back from Prometheus, in NodeCounters' shape (CPU seconds as a plain array, NaN where unknown). */
export interface CounterReadings {
  readonly cpuSeconds: number[];
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly loRxBytes: number;
}

/** Each counter starts at its last recorded value where there is one (else `fresh`): it continues, it never starts below what was recorded. */
export function continueCounters(fresh: NodeCounters, last: Partial<CounterReadings> | undefined): NodeCounters {
  if (!last) return fresh;
  const cpuSeconds = Float64Array.from(fresh.cpuSeconds, (v, m) => {
    const prev = last.cpuSeconds?.[m];
    return prev !== undefined && Number.isFinite(prev) ? prev : v;
  });
  return {
    cpuSeconds,
    rxBytes: last.rxBytes ?? fresh.rxBytes,
    txBytes: last.txBytes ?? fresh.txBytes,
    loRxBytes: last.loRxBytes ?? fresh.loRxBytes,
  };
}
