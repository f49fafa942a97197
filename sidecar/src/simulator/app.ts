/**
 * The live simulator: node_exporter-style `/metrics` for the whole fleet, plus run-time
 * control of scenarios and incidents. `createSimulatorApp` returns a handle; nothing listens
 * until `start()`.
 *
 * HTTP:
 *   GET  /metrics      node_exporter names, one `instance` label per server (scrape with honor_labels: true)
 *   GET  /scenario     {"scenario", "since", "switches"}
 *   POST /scenario     {"scenario": "critical"} (or the bare name as text/plain) → switches now
 *   GET  /incidents    recorded incidents
 *   POST /incidents    {"instance", "kind"?, "rampMinutes"?} → starts an incident now, returns its record
 *   GET  /-/healthy
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Simulation } from './simulation';
import type { NodeCounters } from './node-exporter';
import { advanceCounters, initialCounters, renderNodeMetrics } from './node-exporter';
import { renderSimulatorMetrics } from './simulation';
import { continueCounters } from './continuation';
import type { CounterReadings } from './continuation';
import { IncidentError, INCIDENT_KINDS } from './incidents';
import type { IncidentKind } from './incidents';
import { ScenarioError, parseScenario } from './scenario';

export interface SimulatorAppOptions {
  readonly sim: Simulation;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Current time in unix seconds; injected so tests can drive the clock. */
  readonly now?: () => number;
  /** Last counter values already recorded per instance (a backfilled history): counters continue from them. */
  readonly continueFrom?: ReadonlyMap<string, Partial<CounterReadings>>;
}

export interface AppHandle {
  start(): Promise<void>;
  /** Idempotent; resolves within a few seconds even with clients attached. */
  stop(): Promise<void>;
  /** `http://host:port` once started. */
  address(): string;
}

/** Counters are integrated in steps of at most this many seconds between scrapes. */
const INTEGRATION_STEP = 15;
/** After a long pause (suspend), integrate at most this many steps and skip the rest at the last rate. */
const MAX_STEPS = 2000;
const MAX_BODY = 64 * 1024;

export function createSimulatorApp(opts: SimulatorAppOptions): AppHandle {
  const { sim } = opts;
  const now = opts.now ?? ((): number => Date.now() / 1000);
  let counters: NodeCounters[] = [];
  let integratedTo = 0;
  let server: http.Server | undefined;
  let stopping: Promise<void> | undefined;

  function integrateTo(t: number): void {
    if (t <= integratedTo) return;
    const steps = Math.min(MAX_STEPS, Math.ceil((t - integratedTo) / INTEGRATION_STEP));
    const dt = (t - integratedTo) / steps;
    for (let k = 1; k <= steps; k++) {
      const tk = integratedTo + k * dt;
      sim.servers.forEach((s, i) => advanceCounters(counters[i]!, sim.gauges(s, tk), dt));
    }
    integratedTo = t;
  }

  function metrics(): string {
    const t = now();
    integrateTo(t);
    const samples = sim.servers.map((s, i) => ({ server: s, gauges: sim.gauges(s, t), counters: counters[i]! }));
    return renderNodeMetrics(samples) + renderSimulatorMetrics(sim, t);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? 'GET'} ${url.pathname}`;
    switch (route) {
      case 'GET /metrics':
        return send(res, 200, metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      case 'GET /-/healthy':
        return send(res, 200, 'OK\n', 'text/plain');
      case 'GET /scenario':
        return json(res, 200, scenarioState());
      case 'POST /scenario': {
        const body = await readBody(req);
        const name = url.searchParams.get('name') ?? scenarioFromBody(body, req.headers['content-type']);
        const scenario = parseScenario(name);
        sim.switchScenario(scenario, now());
        return json(res, 200, scenarioState());
      }
      case 'GET /incidents':
        return json(res, 200, sim.incidents.list());
      case 'POST /incidents': {
        const body = parseJsonObject(await readBody(req));
        const instance = body['instance'];
        if (typeof instance !== 'string') throw new IncidentError('"instance" is required (a string)');
        const kind = body['kind'];
        if (kind !== undefined && !(INCIDENT_KINDS as readonly unknown[]).includes(kind)) {
          throw new IncidentError(`unknown incident kind ${JSON.stringify(kind)} (expected one of: ${INCIDENT_KINDS.join(', ')})`);
        }
        const rampMinutes = body['rampMinutes'];
        if (rampMinutes !== undefined && (typeof rampMinutes !== 'number' || !Number.isFinite(rampMinutes))) {
          throw new IncidentError(`"rampMinutes" must be a number (got ${JSON.stringify(rampMinutes)})`);
        }
        const inc = sim.injectIncident({
          instance,
          kind: kind as IncidentKind | undefined,
          rampSeconds: rampMinutes === undefined ? undefined : rampMinutes * 60,
          onset: now(),
        });
        return json(res, 201, inc);
      }
      case 'GET /':
        return send(
          res,
          200,
          'Foresight fleet simulator\n\nGET /metrics\nGET|POST /scenario\nGET|POST /incidents\nGET /-/healthy\n',
          'text/plain',
        );
      default:
        return json(res, 404, { error: `no route ${route}` });
    }
  }

  function scenarioState(): { scenario: string; since: number | null; switches: unknown } {
    const switches = sim.timeline.history();
    const last = switches[switches.length - 1];
    return { scenario: sim.timeline.scenarioAt(now()), since: last ? last.at : null, switches };
  }

  return {
    async start(): Promise<void> {
      if (server) return;
      counters = sim.servers.map((s) => continueCounters(initialCounters(sim.seed, s), opts.continueFrom?.get(s.instance)));
      integratedTo = now();
      const srv = http.createServer((req, res) => {
        handle(req, res).catch((e: unknown) => {
          const status = e instanceof ScenarioError || e instanceof IncidentError || e instanceof BadRequest ? 400 : 500;
          json(res, status, { error: e instanceof Error ? e.message : String(e) });
        });
      });
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(opts.port, opts.host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
    },
    stop(): Promise<void> {
      if (!server) return Promise.resolve();
      stopping ??= new Promise<void>((resolve) => {
        const srv = server!;
        const timer = setTimeout(() => srv.closeAllConnections(), 2000);
        srv.close(() => {
          clearTimeout(timer);
          resolve();
        });
        srv.closeIdleConnections();
      });
      return stopping;
    },
    address(): string {
      const addr = server?.address() as AddressInfo | null | undefined;
      if (!addr) throw new Error('simulator is not listening');
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      return `http://${host}:${addr.port}`;
    },
  };
}

class BadRequest extends Error {}

function send(res: http.ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body) + '\n', 'application/json');
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new BadRequest(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequest(`request body is not JSON: ${body.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequest('request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function scenarioFromBody(body: string, contentType: string | undefined): string {
  if (contentType?.includes('application/json')) {
    const v = parseJsonObject(body)['scenario'];
    if (typeof v !== 'string') throw new BadRequest('"scenario" is required (a string)');
    return v;
  }
  const text = body.trim();
  if (text.startsWith('{')) return scenarioFromBody(text, 'application/json');
  if (text === '') throw new BadRequest('no scenario given (body {"scenario": "…"} or ?name=…)');
  return text;
}
