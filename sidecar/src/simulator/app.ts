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
import type { Simulation } from './simulation';
import type { NodeCounters } from './node-exporter';
import { advanceCounters, initialCounters, renderNodeMetrics } from './node-exporter';
import { renderSimulatorMetrics } from './simulation';
import { continueCounters } from './continuation';
import type { CounterReadings } from './continuation';
import { controlSimulator, isControlPath } from './control';
import { addressOf, closeServer, json, listen, send } from '../http';

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
    const method = req.method ?? 'GET';
    if ((method === 'GET' || method === 'POST') && isControlPath(url.pathname)) {
      const answer = await controlSimulator({ sim, now }, method, url.pathname, url, req);
      return json(res, answer.status, answer.body);
    }
    switch (`${method} ${url.pathname}`) {
      case 'GET /metrics':
        return send(res, 200, metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      case 'GET /-/healthy':
        return send(res, 200, 'OK\n', 'text/plain');
      case 'GET /':
        return send(res, 200, 'Foresight fleet simulator\n\nGET /metrics\nGET|POST /scenario\nGET|POST /incidents\nGET /-/healthy\n', 'text/plain');
      default:
        return json(res, 404, { error: `no route ${method} ${url.pathname}` });
    }
  }

  return {
    async start(): Promise<void> {
      if (server) return;
      counters = sim.servers.map((s) => continueCounters(initialCounters(sim.seed, s), opts.continueFrom?.get(s.instance)));
      integratedTo = now();
      const srv = http.createServer((req, res) => {
        handle(req, res).catch((e: unknown) => {
          if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message : String(e) });
          else res.end();
        });
      });
      server = srv;
      await listen(srv, opts.port, opts.host);
    },
    stop(): Promise<void> {
      if (!server) return Promise.resolve();
      stopping ??= closeServer(server);
      return stopping;
    },
    address(): string {
      const address = server && addressOf(server);
      if (!address) throw new Error('simulator is not listening');
      return address;
    },
  };
}
