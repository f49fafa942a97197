/**
 * The sidecar's HTTP surface (README "HTTP API"): /metrics, /-/healthy, /-/ready,
 * /-/reload, /api/v1/fleet, /api/v1/instances/{instance}/forecast, /api/v1/stream (SSE), / (preview),
 * and, with the embedded simulator, /simulator/scenario and /simulator/incidents.
 * The handlers only read what the app hands them; nothing here computes forecasts.
 */
import http from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { Simulation } from '../simulator/simulation';
import { CONTROL_PATHS, controlSimulator } from '../simulator/control';
import type { ControlPath } from '../simulator/control';
import { BadRequest, addressOf, closeServer, json, listen, send } from '../http';
import { renderPreviewPage } from './preview';

/** A reload asked for while another one runs (answered 409). */
export class ReloadInProgressError extends Error {
  override readonly name = 'ReloadInProgressError';
  constructor() {
    super('a reload is already in progress; try again once it has finished');
  }
}

export interface ApiDeps {
  readonly listen: string;
  /**
   * The exposition in parts, written one after another (a large fleet's text is never copied into
   * one string); a stream part is piped in its turn (a body decoded as it is sent).
   */
  readonly metrics: () => ReadonlyArray<string | Buffer | Readable>;
  /**
   * The same body as one gzip stream, in parts to send one after another, or undefined when no
   * encoded copy is ready: the forecasts are encoded once per cycle, the small self-monitoring
   * part per scrape (exporter/gzip-stream.ts).
   */
  readonly metricsGzip?: () => ReadonlyArray<Buffer> | undefined;
  readonly ready: () => boolean;
  /** Rejects with ReloadInProgressError while another reload runs (answered 409). */
  readonly reload: () => Promise<void>;
  readonly fleet: () => unknown;
  /** undefined when the instance is unknown. */
  readonly forecast: (instance: string) => unknown;
  readonly subscribe: (listener: (event: unknown) => void) => () => void;
  /** The embedded simulator, whose controls are served under /simulator/; undefined with another source. */
  readonly simulation: () => Simulation | undefined;
  /** The simulated clock: scenario switches and incidents happen at its "now". */
  readonly now: () => number;
  /** Where a change made through the API (scenario switch, injected incident) is logged. */
  readonly log?: (line: string) => void;
  /** The preview bundle (plugin/dist-preview/preview.js) when it has been built. */
  readonly previewScript?: () => string | undefined;
}

export interface ApiServer {
  readonly address: string;
  close(): Promise<void>;
}

const INSTANCE_FORECAST = /^\/api\/v1\/instances\/([^/]+)\/forecast$/;

function eventType(event: unknown): string {
  const t = typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  return typeof t === 'string' && /^[a-z_]+$/.test(t) ? t : 'cycle';
}

/** Answers a request on a route; `url` is the request's, parsed. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void> | void;
/** What a path answers, by method; HEAD works wherever GET does. */
type Routes = Readonly<Partial<Record<'GET' | 'POST', Handler>>>;

export async function startApiServer(d: ApiDeps): Promise<ApiServer> {
  const streams = new Set<http.ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const s of streams) s.write(': keep-alive\n\n');
  }, 15000);
  heartbeat.unref();
  const fixed = fixedRoutes(d, streams);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const routes = routesOf(d, fixed, p);
    if (!routes) return json(res, 404, { error: `no route ${req.method ?? 'GET'} ${p}` });
    // Node leaves the body out of answers to HEAD by itself: HEAD is GET without the body
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const handler = Object.hasOwn(routes, method) ? routes[method as keyof Routes] : undefined;
    if (!handler) {
      const allowed = Object.keys(routes);
      const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
      res.setHeader('allow', allow.join(', '));
      return json(res, 405, { error: `method ${req.method ?? ''} not allowed on ${p} (allowed: ${allow.join(', ')})` });
    }
    return handler(req, res, url);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, e instanceof BadRequest ? 400 : 500, { error: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });
  const m = /^(.*):(\d+)$/.exec(d.listen)!;
  await listen(server, Number(m[2]), m[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0').catch((e: unknown) => {
    clearInterval(heartbeat);
    throw e;
  });
  return {
    address: addressOf(server)!,
    close: () => {
      clearInterval(heartbeat);
      for (const s of streams) s.end();
      return closeServer(server);
    },
  };
}

/**
 * The routes of a path, or undefined for a path that does not exist (404). A known path asked
 * with another method gets 405 and an Allow header.
 */
function routesOf(d: ApiDeps, fixed: ReadonlyMap<string, Routes>, p: string): Routes | undefined {
  const route = fixed.get(p);
  if (route) return route;
  const m = INSTANCE_FORECAST.exec(p);
  if (m) return { GET: (_req, res) => sendForecast(d, m[1]!, res) };
  const control = simulatorControlPath(p);
  const sim = d.simulation();
  if (!control || !sim) return undefined;
  const answer =
    (method: 'GET' | 'POST'): Handler =>
    async (req, res, url) => {
      const a = await controlSimulator({ sim, now: d.now, log: d.log }, method, control, url, req);
      json(res, a.status, a.body);
    };
  return { GET: answer('GET'), POST: answer('POST') };
}

/** The routes at fixed paths. */
function fixedRoutes(d: ApiDeps, streams: Set<http.ServerResponse>): ReadonlyMap<string, Routes> {
  const text =
    (body: string): Handler =>
    (_req, res) =>
      send(res, 200, body, 'text/plain');
  return new Map<string, Routes>([
    ['/metrics', { GET: (req, res) => sendMetrics(d, req, res) }],
    ['/-/healthy', { GET: text('Foresight is Healthy.\n') }],
    [
      '/-/ready',
      {
        GET: (_req, res) =>
          d.ready()
            ? send(res, 200, 'Foresight is Ready.\n', 'text/plain')
            : send(res, 503, 'Foresight is not ready: no forecast cycle has succeeded yet.\n', 'text/plain'),
      },
    ],
    ['/-/reload', { POST: (_req, res) => reload(d, res) }],
    ['/api/v1/fleet', { GET: (_req, res) => json(res, 200, d.fleet()) }],
    ['/api/v1/stream', { GET: (req, res) => openStream(d, streams, req, res) }],
    ['/', { GET: (_req, res) => send(res, 200, renderPreviewPage(d.previewScript?.() !== undefined), 'text/html; charset=utf-8') }],
    [
      '/preview.js',
      {
        GET: (_req, res) => {
          const script = d.previewScript?.();
          return script === undefined
            ? send(res, 404, 'preview bundle not built: run npm run build\n', 'text/plain')
            : send(res, 200, script, 'text/javascript; charset=utf-8');
        },
      },
    ],
  ]);
}

/** /metrics: the exposition in parts, gzip-encoded when the scraper accepts it and an encoded copy is ready. */
function sendMetrics(d: ApiDeps, req: http.IncomingMessage, res: http.ServerResponse): void {
  const gz = acceptsGzip(req.headers['accept-encoding']) ? d.metricsGzip?.() : undefined;
  const parts = gz ?? d.metrics();
  res.writeHead(200, {
    'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'Accept-Encoding',
    ...(gz ? { 'content-encoding': 'gzip' } : {}),
  });
  if (parts.every((p): p is string | Buffer => !(p instanceof Readable))) {
    for (const part of parts.slice(0, -1)) res.write(part);
    res.end(parts[parts.length - 1] ?? '');
    return;
  }
  // with a stream among the parts: one body, written as the client reads it
  const body = Readable.from(
    (async function* () {
      for (const p of parts) {
        if (p instanceof Readable) yield* p;
        else yield p;
      }
    })(),
    { objectMode: false },
  );
  pipeline(body, res, () => undefined);
}

/** /-/reload: 200 once reloaded, 409 while another reload runs, 500 with the reason when the new config or model is broken. */
async function reload(d: ApiDeps, res: http.ServerResponse): Promise<void> {
  try {
    await d.reload();
    return send(res, 200, 'reloaded\n', 'text/plain');
  } catch (e) {
    if (e instanceof ReloadInProgressError) return send(res, 409, `${e.message}\n`, 'text/plain');
    return send(res, 500, `failed to reload config and model (still serving the previous ones): ${e instanceof Error ? e.message : String(e)}\n`, 'text/plain');
  }
}

/** /api/v1/instances/{instance}/forecast, `encoded` as it appears in the path. */
function sendForecast(d: ApiDeps, encoded: string, res: http.ServerResponse): void {
  let instance: string;
  try {
    instance = decodeURIComponent(encoded);
  } catch {
    return json(res, 400, { error: `malformed percent-encoding in ${JSON.stringify(encoded)}` });
  }
  const body = d.forecast(instance);
  return body === undefined ? json(res, 404, { error: `no forecast for instance ${JSON.stringify(instance)}` }) : json(res, 200, body);
}

/** /api/v1/stream: server-sent events, one per cycle, until the client goes away. */
function openStream(d: ApiDeps, streams: Set<http.ServerResponse>, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  if (req.method === 'HEAD') return void res.end();
  res.write(': foresight cycle events\n\n');
  streams.add(res);
  // the event name is the event's type: `cycle` for a cycle that published, `cycle_failed` for one that did not
  const unsubscribe = d.subscribe((event) => res.write(`event: ${eventType(event)}\ndata: ${JSON.stringify(event)}\n\n`));
  req.on('close', () => {
    unsubscribe();
    streams.delete(res);
  });
}

/** The simulator control a path under /simulator/ names, if any. */
function simulatorControlPath(p: string): ControlPath | undefined {
  return CONTROL_PATHS.find((c) => p === `/simulator${c}`);
}

/** Whether an Accept-Encoding header accepts gzip (Prometheus sends "gzip"; "gzip;q=0" refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part
      .trim()
      .split(';')
      .map((x) => x.trim());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
