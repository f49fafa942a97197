/**
 * A fault proxy between the sidecar and a real Prometheus: it forwards the Prometheus HTTP API
 * and, for the requests a rule matches, answers with a fault instead: an HTTP error, an answer
 * that drips one byte per second, an answer rewritten (values, series), or an oversized answer.
 * Rules can be changed while it runs, so one sidecar and one Prometheus serve a whole sequence
 * of faults (integration tests; the soak script).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A query_range / query answer as Prometheus sends it. */
export interface PromAnswer {
  status: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; values?: Array<[number, unknown]>; value?: [number, unknown] }> };
}

export type Fault =
  /** Answer with this status and body (e.g. 500). */
  | { readonly kind: 'status'; readonly status: number; readonly body?: string }
  /** Send the upstream answer one byte every `intervalMs` (default 1000), never faster. */
  | { readonly kind: 'drip'; readonly intervalMs?: number }
  /** Answer with `rewrite` applied to the upstream answer (parsed JSON). */
  | { readonly kind: 'rewrite'; readonly rewrite: (answer: PromAnswer) => PromAnswer }
  /** A 200 answer of `bytes` bytes (valid JSON padded with spaces), streamed as fast as the client reads. */
  | { readonly kind: 'oversize'; readonly bytes: number };

/** What a rule sees of a request: the API path and its form/query parameters. */
export interface ProxiedRequest {
  readonly path: string;
  readonly params: URLSearchParams;
}

export interface FaultRule {
  readonly match: (r: ProxiedRequest) => boolean;
  readonly fault: Fault;
}

export interface FaultProxy {
  readonly url: string;
  /** Replaces the rules (first match wins); no rules: everything passes through. */
  setRules(rules: readonly FaultRule[]): void;
  /** Requests answered with a fault, by kind. */
  readonly injected: Readonly<Record<Fault['kind'], number>>;
  close(): Promise<void>;
}

/** A rule for query_range requests whose PromQL is exactly `expr`. */
export function forQuery(expr: string, fault: Fault): FaultRule {
  return { match: (r) => r.path.endsWith('/api/v1/query_range') && r.params.get('query') === expr, fault };
}

/** A rule for every query_range request. */
export function forEveryRange(fault: Fault): FaultRule {
  return { match: (r) => r.path.endsWith('/api/v1/query_range'), fault };
}

/** Applies `f` to each sample value of a matrix answer, per series: return the new value (a string, as Prometheus sends) or undefined to drop the sample. */
export function mapValues(
  answer: PromAnswer,
  f: (labels: Record<string, string>, time: number, value: unknown, index: number, count: number) => unknown,
): PromAnswer {
  return {
    ...answer,
    data: {
      ...answer.data,
      result: answer.data.result.map((s) => {
        const values = s.values ?? [];
        const out: Array<[number, unknown]> = [];
        values.forEach(([t, v], i) => {
          const next = f(s.metric, t, v, i, values.length);
          if (next !== undefined) out.push([t, next]);
        });
        return { ...s, values: out };
      }),
    },
  };
}

/** Starts the proxy in front of `upstream`; `port` (default: a free one) lets it be closed and started again where the client expects it ("Prometheus down"). */
export async function startFaultProxy(upstream: string, opts: { readonly port?: number } = {}): Promise<FaultProxy> {
  const base = new URL(upstream);
  let rules: readonly FaultRule[] = [];
  const injected: Record<Fault['kind'], number> = { status: 0, drip: 0, rewrite: 0, oversize: 0 };
  const timers = new Set<NodeJS.Timeout>();

  const forward = async (
    method: string,
    path: string,
    body: string,
    headers: http.IncomingHttpHeaders,
  ): Promise<{ status: number; type: string; body: Buffer }> => {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { 'content-type': String(headers['content-type'] ?? 'application/x-www-form-urlencoded') },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? 'application/json', body: Buffer.from(await res.arrayBuffer()) };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', base);
        const params = new URLSearchParams(url.search);
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
        const rule = rules.find((r) => r.match({ path: url.pathname, params }));
        try {
          if (!rule) {
            const up = await forward(req.method ?? 'GET', req.url ?? '/', body, req.headers);
            res.writeHead(up.status, { 'content-type': up.type });
            res.end(up.body);
            return;
          }
          const fault = rule.fault;
          injected[fault.kind]++;
          if (fault.kind === 'status') {
            res.writeHead(fault.status, { 'content-type': 'application/json' });
            res.end(fault.body ?? JSON.stringify({ status: 'error', errorType: 'internal', error: 'injected fault' }));
          } else if (fault.kind === 'rewrite') {
            const up = await forward(req.method ?? 'POST', req.url ?? '/', body, req.headers);
            const answer = JSON.parse(up.body.toString('utf8')) as PromAnswer;
            res.writeHead(up.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(fault.rewrite(answer)));
          } else if (fault.kind === 'drip') {
            const up = await forward(req.method ?? 'POST', req.url ?? '/', body, req.headers);
            res.writeHead(up.status, { 'content-type': 'application/json', 'content-length': up.body.length });
            let i = 0;
            const timer = setInterval(() => {
              if (i >= up.body.length || res.destroyed) {
                clearInterval(timer);
                timers.delete(timer);
                if (!res.destroyed) res.end();
                return;
              }
              res.write(up.body.subarray(i, ++i));
            }, fault.intervalMs ?? 1000);
            timers.add(timer);
            res.on('close', () => {
              clearInterval(timer);
              timers.delete(timer);
            });
          } else {
            const head = '{"status":"success","data":{"resultType":"matrix","result":[]}}';
            res.writeHead(200, { 'content-type': 'application/json' });
            res.write(head);
            let left = Math.max(0, fault.bytes - head.length);
            const pad = Buffer.alloc(64 * 1024, ' ');
            const pump = (): void => {
              while (left > 0 && !res.destroyed) {
                const n = Math.min(left, pad.length);
                left -= n;
                if (!res.write(pad.subarray(0, n))) return void res.once('drain', pump);
              }
              if (!res.destroyed) res.end();
            };
            pump();
          }
        } catch (e) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`fault proxy: ${e instanceof Error ? e.message : String(e)}`);
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setRules: (r) => {
      rules = [...r];
    },
    injected,
    close: async () => {
      for (const t of timers) clearInterval(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
