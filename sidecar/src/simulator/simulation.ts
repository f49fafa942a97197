/**
 * A simulation: a fleet, a seed, a scenario timeline and the incidents injected into it.
 * Everything observable is a pure function of these and the time asked about.
 */
import type { MetricName } from '../profiles/profiles';
import type { FleetSpec, SimServer } from './fleet';
import type { Gauges, SimContext } from './behaviour';
import type { Incident, IncidentKind } from './incidents';
import type { ScenarioName } from './scenario';
import { buildFleet } from './fleet';
import { baselineGauges, serverGauges } from './behaviour';
import { IncidentBook, IncidentError, INCIDENT_KINDS, defaultIncidentKind, planIncident } from './incidents';
import { SCENARIO_NAMES, ScenarioTimeline } from './scenario';
import { escapeLabelValue } from './node-exporter';

export interface SimulationOptions {
  readonly fleet: FleetSpec;
  readonly seed: number;
  /** Scenario in force from the beginning of time until the first switch. */
  readonly scenario: ScenarioName;
  /** How long degrading and critical take to build up after a switch; default: their own (40 min, 15 min). */
  readonly buildUpSeconds?: number | undefined;
}

export interface IncidentRequest {
  readonly instance: string;
  readonly kind?: IncidentKind | undefined;
  /** Seconds from onset to the threshold crossing; default 2 h. */
  readonly rampSeconds?: number | undefined;
  /** Unix seconds. */
  readonly onset: number;
}

export class Simulation {
  readonly servers: readonly SimServer[];
  readonly seed: number;
  readonly timeline: ScenarioTimeline;
  readonly incidents = new IncidentBook();
  private readonly byInstance: ReadonlyMap<string, SimServer>;
  private readonly ctx: SimContext;
  private nextIncident = 1;
  private readonly changeListeners = new Set<(at: number) => void>();

  constructor(opts: SimulationOptions) {
    this.seed = opts.seed;
    this.servers = buildFleet(opts.fleet, opts.seed);
    this.byInstance = new Map(this.servers.map((s) => [s.instance, s]));
    this.timeline = new ScenarioTimeline(opts.scenario, this.servers.length, opts.buildUpSeconds);
    this.ctx = { seed: this.seed, timeline: this.timeline, incidents: this.incidents };
  }

  server(instance: string): SimServer | undefined {
    return this.byInstance.get(instance);
  }

  gauges(s: SimServer, t: number): Gauges {
    return serverGauges(this.ctx, s, t);
  }

  /** The six default metrics as instantaneous values (rates are the instant's, not a window's). */
  metricValues(s: SimServer, t: number): Record<MetricName, number> {
    return metricsFromGauges(this.gauges(s, t));
  }

  /**
   * Calls `listener` after each change to what the simulation will show (a scenario switch, an
   * injected incident) with the instant the change takes effect; returns the unsubscribe.
   */
  onChange(listener: (at: number) => void): () => void {
    this.changeListeners.add(listener);
    return () => void this.changeListeners.delete(listener);
  }

  switchScenario(scenario: ScenarioName, at: number): void {
    this.timeline.switchTo(scenario, at);
    for (const l of this.changeListeners) l(at);
  }

  /**
   * Injects an incident; throws IncidentError naming the problem (unknown instance, kind,
   * overlap, or a metric already at its threshold).
   */
  injectIncident(req: IncidentRequest): Incident {
    const s = this.byInstance.get(req.instance);
    if (!s) throw new IncidentError(`unknown instance "${req.instance}"`);
    const kind = req.kind ?? defaultIncidentKind(s.profile);
    if (!(INCIDENT_KINDS as readonly string[]).includes(kind)) {
      throw new IncidentError(`unknown incident kind "${String(kind)}" (expected one of: ${INCIDENT_KINDS.join(', ')})`);
    }
    const g = baselineGauges(this.seed, s, req.onset, this.timeline.scenarioAt(req.onset) === 'busy');
    const start = kind === 'memory_leak' ? g.memory : s.dataSizeBytes > 0 ? g.dataDisk : g.rootDisk;
    const record = planIncident(s, `inc-${this.nextIncident}`, kind, req.onset, req.rampSeconds ?? 7200, start);
    const inc = this.incidents.add(record);
    this.nextIncident++;
    for (const l of this.changeListeners) l(req.onset);
    return inc;
  }
}

export function metricsFromGauges(g: Gauges): Record<MetricName, number> {
  return {
    cpu: g.cpu,
    memory: g.memory,
    disk: Math.max(g.rootDisk, g.dataDisk),
    iowait: g.iowait,
    load: g.load,
    network: g.rx + g.tx,
  };
}

const SIM_FAMILIES = [
  ['foresight_simulator_scenario', '1 for the scenario the simulated fleet is in.'],
  ['foresight_simulator_incident_crossing_timestamp_seconds', 'When an active injected incident crosses its critical threshold.'],
  ['foresight_simulator_incident_threshold_percent', 'The critical threshold an active injected incident crosses.'],
] as const;

function familyHeader(i: number): string {
  const [name, help] = SIM_FAMILIES[i]!;
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
}

/** `# HELP`/`# TYPE` lines of the simulator's own families. */
export function simulatorHeaders(): string {
  return SIM_FAMILIES.map((_, i) => familyHeader(i)).join('');
}

/**
 * The simulator's own series at t: which scenario is in force, and the incidents active at t
 * with their recorded crossing time (so tests and evals can read them back from Prometheus).
 * With a timestamp: bare sample lines for OpenMetrics history; without: a grouped exposition.
 */
export function renderSimulatorMetrics(sim: Simulation, t: number, timestampSeconds?: number): string {
  const ts = timestampSeconds === undefined ? '' : ` ${timestampSeconds}`;
  const current = sim.timeline.scenarioAt(t);
  const groups = ['', '', ''];
  for (const name of SCENARIO_NAMES) {
    groups[0] += `foresight_simulator_scenario{scenario="${name}"} ${name === current ? 1 : 0}${ts}\n`;
  }
  for (const inc of sim.incidents.list()) {
    if (t < inc.onset || t > inc.end) continue;
    const labels = `instance="${escapeLabelValue(inc.instance)}",incident="${inc.id}",kind="${inc.kind}",metric="${inc.metric}"`;
    groups[1] += `foresight_simulator_incident_crossing_timestamp_seconds{${labels}} ${inc.crossing}${ts}\n`;
    groups[2] += `foresight_simulator_incident_threshold_percent{${labels}} ${inc.threshold}${ts}\n`;
  }
  if (timestampSeconds !== undefined) return groups.join('');
  return groups.map((g, i) => familyHeader(i) + g).join('');
}
