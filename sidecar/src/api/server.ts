/**
 * The sidecar's HTTP surface (README "HTTP API"): /metrics, /-/healthy, /-/ready,
 * /-/reload, /api/v1/fleet, /api/v1/instances/{instance}/forecast, /api/v1/stream (SSE), / (preview),
 * and, with the embedded simulator, /simulator/scenario and /simulator/incidents.
 * The handlers only read what the app hands them; nothing here computes forecasts.
 */
import http from 'node:http';
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
  /** The exposition in parts, written one after another (a large fleet's text is never copied into one string). */
  readonly metrics: () => ReadonlyArray<string | Buffer>;
  /**
   * The same body gzip-encoded, as gzip members to send one after another (a multi-member gzip
   * stream decodes to the concatenation), or undefined when no encoded copy is ready: the
   * forecasts are encoded once per cycle, the small self-monitoring part per scrape.
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

export async function startApiServer(d: ApiDeps): Promise<ApiServer> {
  const streams = new Set<http.ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const s of streams) s.write(': keep-alive\n\n');
  }, 15000);
  heartbeat.unref();

  /**
   * The methods each path answers, or undefined for a path that does not exist (404). A known path
   * asked with another method gets 405 and an Allow header; HEAD works wherever GET does.
   */
  function methodsOf(p: string): readonly string[] | undefined {
    if (['/metrics', '/-/healthy', '/-/ready', '/api/v1/fleet', '/api/v1/stream', '/', '/preview.js'].includes(p)) return ['GET'];
    if (p === '/-/reload') return ['POST'];
    if (INSTANCE_FORECAST.test(p)) return ['GET'];
    if (d.simulation() && simulatorControlPath(p)) return ['GET', 'POST'];
    return undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const allowed = methodsOf(p);
    if (!allowed) return json(res, 404, { error: `no route ${req.method ?? 'GET'} ${p}` });
    // Node leaves the body out of answers to HEAD by itself: HEAD is GET without the body
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (!allowed.includes(method)) {
      const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
      res.setHeader('allow', allow.join(', '));
      return json(res, 405, { error: `method ${req.method ?? ''} not allowed on ${p} (allowed: ${allow.join(', ')})` });
    }
    if (method === 'GET' && p === '/metrics') {
      const gz = acceptsGzip(req.headers['accept-encoding']) ? d.metricsGzip?.() : undefined;
      const parts = gz ?? d.metrics();
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'cache-control': 'no-store',
        vary: 'Accept-Encoding',
        ...(gz ? { 'content-encoding': 'gzip' } : {}),
      });
      for (const part of parts.slice(0, -1)) res.write(part);
      res.end(parts[parts.length - 1] ?? '');
      return;
    }
    if (method === 'GET' && p === '/-/healthy') return send(res, 200, 'Foresight is Healthy.\n', 'text/plain');
    if (method === 'GET' && p === '/-/ready') {
      return d.ready() ? send(res, 200, 'Foresight is Ready.\n', 'text/plain') : send(res, 503, 'Foresight is not ready: no forecast cycle has succeeded yet.\n', 'text/plain');
    }
    if (method === 'POST' && p === '/-/reload') {
      try {
        await d.reload();
        return send(res, 200, 'reloaded\n', 'text/plain');
      } catch (e) {
        if (e instanceof ReloadInProgressError) return send(res, 409, `${e.message}\n`, 'text/plain');
        return send(res, 500, `failed to reload config and model (still serving the previous ones): ${e instanceof Error ? e.message : String(e)}\n`, 'text/plain');
      }
    }
    if (method === 'GET' && p === '/api/v1/fleet') return json(res, 200, d.fleet());
    const m = INSTANCE_FORECAST.exec(p);
    if (method === 'GET' && m) {
      let instance: string;
      try {
        instance = decodeURIComponent(m[1]!);
      } catch {
        return json(res, 400, { error: `malformed percent-encoding in ${JSON.stringify(m[1])}` });
      }
      const body = d.forecast(instance);
      return body === undefined ? json(res, 404, { error: `no forecast for instance ${JSON.stringify(instance)}` }) : json(res, 200, body);
    }
    if (method === 'GET' && p === '/api/v1/stream') {
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
      return;
    }
    if (method === 'GET' && p === '/') return send(res, 200, renderPreviewPage(d.previewScript?.() !== undefined), 'text/html; charset=utf-8');
    if (method === 'GET' && p === '/preview.js') {
      const script = d.previewScript?.();
      return script === undefined ? send(res, 404, 'preview bundle not built: run npm run build\n', 'text/plain') : send(res, 200, script, 'text/javascript; charset=utf-8');
    }
    const sim = d.simulation();
    const control = simulatorControlPath(p);
    if (sim && control && (method === 'GET' || method === 'POST')) {
      const answer = await controlSimulator({ sim, now: d.now, log: d.log }, method, control, url, req);
      return json(res, answer.status, answer.body);
    }
    return json(res, 404, { error: `no route ${req.method ?? 'GET'} ${p}` });
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

/** The simulator control a path under /simulator/ names, if any. */
function simulatorControlPath(p: string): ControlPath | undefined {
  return CONTROL_PATHS.find((c) => p === `/simulator${c}`);
}

/** Whether an Accept-Encoding header accepts gzip (Prometheus sends "gzip"; "gzip;q=0" refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';').map((x) => x.trim());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
