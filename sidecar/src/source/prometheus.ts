/**
 * Prometheus HTTP API client for `query_range`, for Prometheus, Thanos, Mimir and
 * VictoriaMetrics alike: read-only (POST /api/v1/query_range with a form body, which all of
 * them accept), basic or bearer auth, TLS options, retries with backoff for what a retry can
 * fix, and ranges split to respect the 11,000-points-per-series limit. Every wait is bounded:
 * a wall-clock timeout per request (body included), a deadline per cycle, a size limit per
 * answer, an instance limit per answer, and abort() for reload and shutdown. Values are
 * checked per metric kind (validate.ts) before anything downstream sees them. query_range
 * answers are parsed in a worker thread (matrix.ts): a large fleet's answer is tens of MB.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema';
import type { Secrets } from '../config/load';
import type { MetricName } from '../profiles/profiles';
import { METRIC_NAMES } from '../profiles/profiles';
import { formatDuration } from '@foresight/contract';
import { formatSize } from '../config/size';
import { SourceError } from './source';
import { parseMatrix } from './matrix';
import { checkValue } from './validate';
import type { DropReason } from './validate';
import type { MatrixSeries } from './matrix';
import type { FetchOptions, HistorySource, HistoryWindow, SeriesValues } from './source';

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
  /** Reads in flight, each with its cycle's controller (deadline and abort()). */
  private readonly inflight = new Set<AbortController>();
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
    const instances = new Map<string, Partial<Record<MetricName, SeriesValues>>>();
    const dropped: Partial<Record<MetricName, Partial<Record<DropReason, number>>>> = {};
    const failed: Array<{ metric: MetricName; error: SourceError }> = [];
    // one wall-clock deadline for the whole read: every query, retry and answer body
    const cycle = new AbortController();
    this.inflight.add(cycle);
    const deadline = setTimeout(
      () =>
        cycle.abort(new SourceError(`${this.base.origin}: no complete answer within the ${formatDuration(this.o.config.deadline)} deadline`, 'timeout', false)),
      this.o.config.deadline * 1000,
    );
    try {
      const profileLookup = options.profiles === false ? Promise.resolve() : this.lookupProfiles(cycle.signal);
      await Promise.all(
        METRIC_NAMES.map(async (metric) => {
          try {
            const series = await this.queryRange(this.o.queries[metric], start, end, step, cycle.signal);
            const mine = series.filter((s) => s.metric['instance'] !== undefined && (!this.o.accept || this.o.accept(s.metric['instance'])));
            const count = new Set(mine.map((s) => s.metric['instance'])).size;
            if (count > this.o.config.max_instances) {
              throw new SourceError(
                `${this.base.origin}: the ${metric} answer has ${count} instances, more than source.prometheus.max_instances (${this.o.config.max_instances})`,
                'too_many_instances',
                false,
              );
            }
            const drops: Partial<Record<DropReason, number>> = {};
            const drop = (reason: DropReason, n: number): void => {
              if (n > 0) drops[reason] = (drops[reason] ?? 0) + n;
            };
            for (const s of mine) {
              const instance = s.metric['instance']!;
              let row = instances.get(instance);
              if (!row) instances.set(instance, (row = {}));
              const values = row[metric] ?? new Float32Array(length).fill(NaN);
              row[metric] = values;
              let nonFinite = 0;
              for (let j = 0; j < s.times.length; j++) {
                const i = Math.round((s.times[j]! - start) / step);
                if (!(i >= 0 && i < length)) continue;
                // only checked values are kept: a dropped one is a gap, never a number invented
                const v = checkValue(metric, s.values[j]!);
                if (typeof v === 'number') values[i] = v;
                else if (v === 'non_finite') nonFinite++;
                else drop(v, 1);
              }
              // junk strings arrive as NaN: tell them apart from real NaN/±Inf samples
              const junk = Math.min(s.invalid, nonFinite);
              drop('invalid', junk);
              drop('non_finite', nonFinite - junk);
            }
            if (Object.keys(drops).length > 0) dropped[metric] = drops;
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
    } finally {
      clearTimeout(deadline);
      this.inflight.delete(cycle);
    }
    return { end, step, length, instances, dropped, failed, ...(this.profiles ? { profiles: this.profiles } : {}) };
  }

  /** Ends every read in flight (see HistorySource.abort). */
  abort(why = 'aborted'): void {
    for (const c of this.inflight) c.abort(new SourceError(`${this.base.origin}: read aborted (${why})`, 'aborted', false));
    this.inflight.clear();
  }

  /** The `profile` label per instance from profiles.label_query, as the server sees it now. */
  private async lookupProfiles(signal: AbortSignal): Promise<void> {
    if (!this.o.profileQuery) return;
    try {
      const found = new Map<string, string>();
      for (const s of await this.instant(this.o.profileQuery, signal)) {
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
  async queryRange(query: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<MatrixSeries[]> {
    const merged = new Map<string, MatrixSeries>();
    for (let chunkStart = start; chunkStart <= end; chunkStart += MAX_POINTS * step) {
      const chunkEnd = Math.min(end, chunkStart + (MAX_POINTS - 1) * step);
      for (const s of await this.request(query, chunkStart, chunkEnd, step, signal)) {
        const key = JSON.stringify(Object.entries(s.metric).sort());
        const prev = merged.get(key);
        merged.set(
          key,
          prev ? { metric: s.metric, times: concat(prev.times, s.times), values: concat(prev.values, s.values), invalid: prev.invalid + s.invalid } : s,
        );
      }
    }
    return [...merged.values()];
  }

  private async request(query: string, start: number, end: number, step: number, signal?: AbortSignal): Promise<MatrixSeries[]> {
    const body = new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) }).toString();
    const url = new URL('api/v1/query_range', this.base);
    let attempt = 0;
    for (;;) {
      try {
        return await this.once(url, body, 'matrix', signal);
      } catch (e) {
        if (!(e instanceof SourceError) || !e.retryable || attempt >= this.o.config.retries || signal?.aborted) throw e;
        attempt++;
        await abortable(this.sleep(Math.min(8000, 250 * 2 ** attempt)), signal);
      }
    }
  }

  /** An instant query at the server's "now" (no retries: used for optional lookups). */
  async instant(query: string, signal?: AbortSignal): Promise<Array<{ metric: Record<string, string> }>> {
    return this.once(new URL('api/v1/query', this.base), new URLSearchParams({ query }).toString(), 'vector', signal);
  }

  /**
   * One request. `timeout` is a wall-clock limit on the whole exchange, the answer's body
   * included (an answer that drips a byte a second ends there); answers over max_answer_size
   * are cut off as they arrive; `signal` (the cycle's deadline, or abort()) ends it at once.
   */
  private once(url: URL, body: string, expected: 'matrix', signal?: AbortSignal): Promise<MatrixSeries[]>;
  private once(url: URL, body: string, expected: 'vector', signal?: AbortSignal): Promise<Array<{ metric: Record<string, string> }>>;
  private once(url: URL, body: string, expected: 'matrix' | 'vector', signal?: AbortSignal): Promise<unknown[]> {
    const timeoutMs = this.o.config.timeout * 1000;
    const maxBytes = this.o.config.max_answer_size;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<unknown[]>((resolveOnce, rejectOnce) => {
      let settled = false;
      const finish = (): void => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const resolve = (v: unknown[]): void => {
        if (settled) return;
        finish();
        resolveOnce(v);
      };
      const reject = (e: Error): void => {
        if (settled) return;
        finish();
        rejectOnce(e);
      };
      const fail = (e: SourceError): void => {
        req.destroy(e);
        reject(e);
      };
      const tooLarge = (): SourceError =>
        new SourceError(`${url.origin}: answer larger than source.prometheus.max_answer_size (${formatSize(maxBytes)}); refused`, 'too_large', false);
      const req = lib.request(url, { method: 'POST', agent: this.agent, headers: { ...this.headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) return fail(tooLarge());
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > maxBytes) return fail(tooLarge());
          chunks.push(c);
        });
        res.on('error', (e) => reject(e instanceof SourceError ? e : new SourceError(`${url.origin}: ${e.message}`, 'network', true)));
        res.on('end', () => {
          if (settled) return;
          const bytes = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          const badResponse = (why: string): SourceError =>
            new SourceError(`${url.origin}: unexpected response (not a success ${expected}): ${why}`, 'bad_response', false);
          if (status >= 200 && status < 300 && expected === 'matrix') {
            // the large answers: parsed in a worker thread (matrix.ts), never on the event loop
            parseMatrix(bytes).then(resolve, (e: unknown) =>
              reject(badResponse(e instanceof Error ? e.message.replace(/^(not JSON|not a success matrix): /, '') : String(e))),
            );
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
          if (status === 400 || status === 422)
            return reject(new SourceError(`${url.origin}: query rejected (${parsed?.errorType ?? status}): ${detail}`, 'query', false));
          if (status < 200 || status >= 300) return reject(new SourceError(`${url.origin}: HTTP ${status}: ${detail}`, 'http_4xx', false));
          if (parsed?.status !== 'success' || parsed.data?.resultType !== expected || !Array.isArray(parsed.data.result)) {
            return reject(badResponse(text.slice(0, 200)));
          }
          resolve(parsed.data.result);
        });
      });
      const timer = setTimeout(
        () => fail(new SourceError(`${url.origin}: no complete answer within ${formatDuration(this.o.config.timeout)}`, 'timeout', true)),
        timeoutMs,
      );
      const onAbort = (): void =>
        fail(signal!.reason instanceof SourceError ? signal!.reason : new SourceError(`${url.origin}: read aborted`, 'aborted', false));
      req.on('error', (e) => reject(e instanceof SourceError ? e : new SourceError(`${url.origin}: ${e.message}`, 'network', true)));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  close(): void {
    this.abort('closed');
    this.agent.destroy();
  }
}

/** Resolves with `p`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
