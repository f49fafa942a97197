/**
 * Prometheus HTTP API client for `query_range`, for Prometheus, Thanos, Mimir and
 * VictoriaMetrics alike: read-only (POST /api/v1/query_range with a form body, which all of
 * them accept), basic or bearer auth, TLS options, timeouts, retries with backoff for what a
 * retry can fix, and ranges split to respect the 11,000-points-per-series limit. query_range
 * answers are parsed in a worker thread (matrix.ts): a large fleet's answer is tens of MB.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema';
import type { Secrets } from '../config/load';
import type { MetricName } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import { SourceError } from './source';
import { parseMatrix } from './matrix';
import type { MatrixSeries } from './matrix';
import type { FetchOptions, HistorySource, HistoryWindow } from './source';

/** Prometheus refuses query_range results of more than 11,000 points per series. */
export const MAX_POINTS = 11000;

type PrometheusConfig = NonNullable<Config['source']['prometheus']>;


export interface PrometheusSourceOptions {
  readonly config: PrometheusConfig;
  readonly secrets: Secrets;
  /** PromQL per metric. */
  readonly queries: Readonly<Record<MetricName, string>>;
  /** Instant query whose series carry `instance` and `profile` labels; none when undefined. */
  readonly profileQuery?: string;
  /** Keep only these instances (sharding); all when undefined. */
  readonly accept?: (instance: string) => boolean;
  /** Sleeps between retries; injected so tests need not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class PrometheusSource implements HistorySource {
  readonly description: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Last good answer to profileQuery: a failed lookup keeps the profiles instances had. */
  private profiles: ReadonlyMap<string, string> | undefined;

  constructor(private readonly o: PrometheusSourceOptions) {
    this.base = new URL(o.config.url.endsWith('/') ? o.config.url : `${o.config.url}/`);
    this.description = `prometheus ${this.base.origin}${this.base.pathname}`;
    const tls = o.config.tls;
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            ca: tls?.ca_file ? readFileSync(tls.ca_file) : undefined,
            cert: tls?.cert_file ? readFileSync(tls.cert_file) : undefined,
            key: tls?.key_file ? readFileSync(tls.key_file) : undefined,
            rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
          })
        : new http.Agent({ keepAlive: true });
    this.headers = { ...o.config.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'foresight-sidecar' };
    if (o.config.basic_auth && o.secrets.basicAuthPassword !== undefined) {
      this.headers['authorization'] = `Basic ${Buffer.from(`${o.config.basic_auth.username}:${o.secrets.basicAuthPassword}`).toString('base64')}`;
    }
    if (o.secrets.bearerToken !== undefined) this.headers['authorization'] = `Bearer ${o.secrets.bearerToken}`;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async fetch(end: number, length: number, step: number, options: FetchOptions = {}): Promise<HistoryWindow> {
    const start = end - (length - 1) * step;
    const instances = new Map<string, Partial<Record<MetricName, Float64Array>>>();
    const skipped: Partial<Record<MetricName, number>> = {};
    const failed: Array<{ metric: MetricName; error: SourceError }> = [];
    const profileLookup = options.profiles === false ? Promise.resolve() : this.lookupProfiles();
    await Promise.all(
      METRIC_NAMES.map(async (metric) => {
        try {
          const series = await this.queryRange(this.o.queries[metric], start, end, step);
          let bad = 0;
          for (const s of series) {
            const instance = s.metric['instance'];
            if (instance === undefined || (this.o.accept && !this.o.accept(instance))) continue;
            let row = instances.get(instance);
            if (!row) instances.set(instance, (row = {}));
            const values = row[metric] ?? new Float64Array(length).fill(NaN);
            row[metric] = values;
            for (let j = 0; j < s.times.length; j++) {
              const i = Math.round((s.times[j]! - start) / step);
              if (i < 0 || i >= length) continue;
              const x = s.values[j]!;
              // garbage ("NaN", "+Inf", staleness markers) is skipped and counted, never forecast from
              if (Number.isFinite(x)) values[i] = x;
              else bad++;
            }
          }
          if (bad > 0) skipped[metric] = bad;
        } catch (e) {
          if (!(e instanceof SourceError)) throw e;
          failed.push({ metric, error: e });
        }
      }),
    );
    if (failed.length === METRIC_NAMES.length) {
      // nothing could be read: the cycle fails as a whole, with the first reason
      throw failed[0]!.error;
    }
    await profileLookup;
    return { end, step, length, instances, skipped, failed, ...(this.profiles ? { profiles: this.profiles } : {}) };
  }

  /** The `profile` label per instance from profiles.label_query, as the server sees it now. */
  private async lookupProfiles(): Promise<void> {
    if (!this.o.profileQuery) return;
    try {
      const found = new Map<string, string>();
      for (const s of await this.instant(this.o.profileQuery)) {
        const instance = s.metric['instance'];
        const profile = s.metric['profile'];
        if (instance !== undefined && profile !== undefined && profile !== '') found.set(instance, profile);
      }
      this.profiles = found;
    } catch (e) {
      // the profile label is a refinement: without it instances fall back to the instance rules
      if (!(e instanceof SourceError)) throw e;
    }
  }

  /** query_range split into chunks of at most MAX_POINTS points, merged per series. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<MatrixSeries[]> {
    const merged = new Map<string, MatrixSeries>();
    for (let chunkStart = start; chunkStart <= end; chunkStart += MAX_POINTS * step) {
      const chunkEnd = Math.min(end, chunkStart + (MAX_POINTS - 1) * step);
      for (const s of await this.request(query, chunkStart, chunkEnd, step)) {
        const key = JSON.stringify(Object.entries(s.metric).sort());
        const prev = merged.get(key);
        merged.set(key, prev ? { metric: s.metric, times: concat(prev.times, s.times), values: concat(prev.values, s.values) } : s);
      }
    }
    return [...merged.values()];
  }

  private async request(query: string, start: number, end: number, step: number): Promise<MatrixSeries[]> {
    const body = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) }).toString();
    const url = new URL('api/v1/query_range', this.base);
    let attempt = 0;
    for (;;) {
      try {
        return await this.once(url, body, 'matrix');
      } catch (e) {
        if (!(e instanceof SourceError) || !e.retryable || attempt >= this.o.config.retries) throw e;
        attempt++;
        await this.sleep(Math.min(8000, 250 * 2 ** attempt));
      }
    }
  }

  /** An instant query at the server's "now" (no retries: used for optional lookups). */
  async instant(query: string): Promise<Array<{ metric: Record<string, string> }>> {
    return this.once(new URL('api/v1/query', this.base), new URLSearchParams({ query }).toString(), 'vector');
  }

  private once(url: URL, body: string, expected: 'matrix'): Promise<MatrixSeries[]>;
  private once(url: URL, body: string, expected: 'vector'): Promise<Array<{ metric: Record<string, string> }>>;
  private once(url: URL, body: string, expected: 'matrix' | 'vector'): Promise<unknown[]> {
    const timeoutMs = this.o.config.timeout * 1000;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<unknown[]>((resolve, reject) => {
      const req = lib.request(url, { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new SourceError(`${url.origin}: ${e.message}`, 'network', true)));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          const badResponse = (why: string): SourceError => new SourceError(`${url.origin}: unexpected response (not a success ${expected}): ${why}`, 'bad_response', false);
          if (status >= 200 && status < 300 && expected === 'matrix') {
            // the large answers: parsed in a worker thread (matrix.ts), never on the event loop
            parseMatrix(bytes).then(resolve, (e: unknown) => reject(badResponse(e instanceof Error ? e.message.replace(/^(not JSON|not a success matrix): /, '') : String(e))));
            return;
          }
          const text = bytes.toString('utf8');
          let parsed: { status?: string; data?: { resultType?: string; result?: unknown[] }; error?: string; errorType?: string } | undefined;
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            parsed = undefined;
          }
          const detail = parsed?.error ?? text.slice(0, 200).trim();
          if (status === 401 || status === 403) return reject(new SourceError(`${url.origin}: HTTP ${status} (check credentials): ${detail}`, 'auth', false));
          if (status === 429) return reject(new SourceError(`${url.origin}: HTTP 429 (rate limited): ${detail}`, 'http_429', true));
          if (status >= 500) return reject(new SourceError(`${url.origin}: HTTP ${status}: ${detail}`, 'http_5xx', true));
          if (status === 400 || status === 422) return reject(new SourceError(`${url.origin}: query rejected (${parsed?.errorType ?? status}): ${detail}`, 'query', false));
          if (status < 200 || status >= 300) return reject(new SourceError(`${url.origin}: HTTP ${status}: ${detail}`, 'http_4xx', false));
          if (parsed?.status !== 'success' || parsed.data?.resultType !== expected || !Array.isArray(parsed.data.result)) {
            return reject(badResponse(text.slice(0, 200)));
          }
          resolve(parsed.data.result);
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new SourceError(`${url.origin}: no answer within ${this.o.config.timeout} s`, 'timeout', true)));
      req.on('error', (e) => reject(e instanceof SourceError ? e : new SourceError(`${url.origin}: ${e.message}`, 'network', true)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
