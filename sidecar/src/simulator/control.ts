/**
 * The simulator's run-time controls, one surface for both servers that offer them: the live
 * simulator (`foresight simulate`: /scenario, /incidents) and the sidecar's embedded simulator
 * (/simulator/scenario, /simulator/incidents).
 *
 *   GET  scenario     {"scenario", "since", "switches"}
 *   POST scenario     {"scenario": "critical"} (or the bare name as text, or ?name=) → switches now
 *   GET  incidents    recorded incidents
 *   POST incidents    {"instance", "kind"?, "rampMinutes"?} → starts an incident now (201, its record)
 *
 * A request that cannot be carried out is answered 400 with the reason.
 */
import type http from 'node:http';
import { BadRequest, parseJsonObject, readBody } from '../http';
import type { Simulation } from './simulation';
import { IncidentError, INCIDENT_KINDS } from './incidents';
import type { IncidentKind } from './incidents';
import { ScenarioError, parseScenario } from './scenario';

/** The controls' paths, relative to where a server mounts them. */
export const CONTROL_PATHS = ['/scenario', '/incidents'] as const;
export type ControlPath = (typeof CONTROL_PATHS)[number];

/** What to answer: a status and a JSON body. */
export interface ControlAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface SimulatorControlOptions {
  readonly sim: Simulation;
  /** The simulated clock, unix seconds: switches and incidents happen at its "now". */
  readonly now: () => number;
  /** Where a change is reported, in words. */
  readonly log?: ((line: string) => void) | undefined;
}

export function isControlPath(p: string): p is ControlPath {
  return (CONTROL_PATHS as readonly string[]).includes(p);
}

/** Answers a GET or POST on one of CONTROL_PATHS (`url` carries ?name=; `req` the body). */
export async function controlSimulator(
  o: SimulatorControlOptions,
  method: 'GET' | 'POST',
  path: ControlPath,
  url: URL,
  req: http.IncomingMessage,
): Promise<ControlAnswer> {
  try {
    if (path === '/scenario') {
      if (method === 'GET') return { status: 200, body: scenarioState(o) };
      const name = url.searchParams.get('name') ?? scenarioFromBody(await readBody(req), req.headers['content-type']);
      const at = o.now();
      o.sim.switchScenario(parseScenario(name), at);
      o.log?.(`simulator: scenario switched to ${name} at ${clockTime(at)} (simulated clock)`);
      return { status: 200, body: scenarioState(o) };
    }
    if (method === 'GET') return { status: 200, body: o.sim.incidents.list() };
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
    const at = o.now();
    const inc = o.sim.injectIncident({
      instance,
      kind: kind as IncidentKind | undefined,
      rampSeconds: rampMinutes === undefined ? undefined : rampMinutes * 60,
      onset: at,
    });
    o.log?.(`simulator: incident injected on ${instance} at ${clockTime(at)} (simulated clock)`);
    return { status: 201, body: inc };
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof IncidentError || e instanceof BadRequest) return { status: 400, body: { error: e.message } };
    throw e;
  }
}

function scenarioState(o: SimulatorControlOptions): { scenario: string; since: number | null; switches: unknown } {
  const switches = o.sim.timeline.history();
  const last = switches[switches.length - 1];
  return { scenario: o.sim.timeline.scenarioAt(o.now()), since: last ? last.at : null, switches };
}

/** The scenario named by a body: {"scenario": …} as JSON (by content type, or a body starting with "{"), else the bare name. */
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

/** An instant of the simulated clock for the log: UTC to the minute. */
function clockTime(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 16) + 'Z';
}
