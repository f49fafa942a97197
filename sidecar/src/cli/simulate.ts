/**
 * `foresight simulate`: the fleet simulator, live (`serve`, the default) or as history
 * (`history`), sharing one set of fleet and scenario flags.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { parseDuration } from '@foresight/contract';
import { DEFAULT_FLEET, FleetSpecError, parseFleetSpec, scaleFleet } from '../simulator/fleet';
import type { FleetSpec } from '../simulator/fleet';
import { ScenarioError, parseScenario, parseSchedule, SCENARIO_NAMES } from '../simulator/scenario';
import { Simulation } from '../simulator/simulation';
import { createSimulatorApp } from '../simulator/app';
import { lastCounters } from '../simulator/continuation';
import { scheduleIncidents, writeHistory } from '../simulator/history';
import type { HistoryFormat } from '../simulator/history';
import { UsageError } from './errors';
import type { CliContext } from './context';

interface FleetFlags {
  fleet?: string;
  servers?: string;
  seed: string;
  scenario: string;
}

function fleetOptions(cmd: Command): Command {
  return cmd
    .option('--fleet <spec>', 'fleet as profile=count,… (e.g. ml_compute=10,database=3)')
    .option('--servers <n>', 'fleet of n servers in the default 7-profile mix')
    .option('--seed <n>', 'random seed; the same seed gives the same fleet and values', '1')
    .option('--scenario <name>', `starting scenario: ${SCENARIO_NAMES.join(', ')}`, 'healthy');
}

/** Builds the simulation the flags describe, or throws UsageError naming the bad value. */
export function simulationFromFlags(f: FleetFlags): Simulation {
  try {
    if (f.fleet !== undefined && f.servers !== undefined) throw new UsageError('--fleet and --servers cannot be combined');
    let fleet: FleetSpec = DEFAULT_FLEET;
    if (f.fleet !== undefined) fleet = parseFleetSpec(f.fleet);
    if (f.servers !== undefined) {
      if (!/^\d+$/.test(f.servers)) throw new UsageError(`--servers must be a whole number (got "${f.servers}")`);
      fleet = scaleFleet(Number(f.servers));
    }
    if (!/^\d+$/.test(f.seed)) throw new UsageError(`--seed must be a whole number (got "${f.seed}")`);
    return new Simulation({ fleet, seed: Number(f.seed), scenario: parseScenario(f.scenario) });
  } catch (e) {
    throw asUsage(e);
  }
}

function asUsage(e: unknown): unknown {
  if (e instanceof FleetSpecError || e instanceof ScenarioError) return new UsageError(e.message);
  return e;
}

function parseListen(text: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be host:port (got "${text}")`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

/** Unix seconds from `now`, unix seconds, or an ISO 8601 time. */
function parseTime(text: string, now: number): number {
  if (text === 'now') return now;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--end must be "now", unix seconds or an ISO 8601 time (got "${text}")`);
  return ms / 1000;
}

/** Adds `simulate` to the program (subcommands inherit its output and exit settings). */
export function addSimulateCommand(program: Command, ctx: CliContext): Command {
  const simulate = program.command('simulate').description('run the fleet simulator (node_exporter metrics for a simulated fleet)');

  fleetOptions(simulate.command('serve', { isDefault: true }).description('serve /metrics for the live fleet (default)'))
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:9100')
    .option(
      '--continue-from <url>',
      'Prometheus holding an earlier run or a backfilled history of this fleet: counters continue from the last values it has (no counter reset at the seam)',
    )
    .action(async (f: FleetFlags & { listen: string; continueFrom?: string }) => {
      const sim = simulationFromFlags(f);
      const { host, port } = parseListen(f.listen);
      let continueFrom: Awaited<ReturnType<typeof lastCounters>> | undefined;
      if (f.continueFrom !== undefined) {
        try {
          continueFrom = await lastCounters(f.continueFrom, sim.servers);
          ctx.stderr.write(`simulator: counters of ${continueFrom.size} of ${sim.servers.length} servers continue from ${f.continueFrom}\n`);
        } catch (e) {
          // a simulator without history is still useful: fresh counters, said plainly
          ctx.stderr.write(
            `simulator: could not read the last counter values from ${f.continueFrom} (${e instanceof Error ? e.message : String(e)}); counters start fresh\n`,
          );
        }
      }
      const app = createSimulatorApp({ sim, host, port, ...(continueFrom ? { continueFrom } : {}) });
      await app.start();
      ctx.stdout.write(
        `simulator: ${sim.servers.length} servers, scenario ${f.scenario}, seed ${sim.seed}\n` +
          `  metrics:   ${app.address()}/metrics\n` +
          `  scenario:  curl -XPOST ${app.address()}/scenario -d critical\n` +
          `  incident:  curl -XPOST ${app.address()}/incidents -H 'content-type: application/json' -d '{"instance":"${sim.servers[0]!.instance}"}'\n`,
      );
      await ctx.untilShutdown();
      await app.stop();
    });

  fleetOptions(simulate.command('history').description('write simulated history (OpenMetrics for promtool backfill, or CSV for training)'))
    .option('--days <n>', 'days of history', '2')
    .addOption(new Option('--format <format>', 'output format').choices(['openmetrics', 'csv']).default('openmetrics'))
    .option('--step <duration>', 'time between samples (default 60s for openmetrics, 5m for csv)')
    .option('--end <time>', 'end of the history: now, unix seconds or ISO 8601', 'now')
    .option('--schedule <list>', 'scenario schedule, e.g. healthy,36h:critical,40h:healthy (overrides --scenario)')
    .option('--incidents <n>', 'number of incidents to inject', '0')
    .option(
      '--job <name>',
      'openmetrics: the job label on every sample, as the Prometheus that scrapes the live simulator adds it (so the live series continue these); empty for none',
      'simulator',
    )
    .option('--out <file>', 'output file (default: standard output)')
    .option('--incidents-out <file>', 'where to write the incident records as JSON (default: <out>.incidents.json when --out is given)')
    .action(async (f: FleetFlags & HistoryFlags) => {
      await runHistory(ctx, f);
    });

  return simulate;
}

interface HistoryFlags {
  days: string;
  format: HistoryFormat;
  step?: string;
  end: string;
  schedule?: string;
  incidents: string;
  job: string;
  out?: string;
  incidentsOut?: string;
}

async function runHistory(ctx: CliContext, f: FleetFlags & HistoryFlags): Promise<void> {
  const days = Number(f.days);
  if (!(days > 0) || !Number.isFinite(days)) throw new UsageError(`--days must be a number > 0 (got "${f.days}")`);
  const step = parseDuration(f.step ?? (f.format === 'csv' ? '5m' : '60s'));
  if (step === undefined || step < 1) throw new UsageError(`--step must be a duration of at least 1s like 60s or 5m (got "${f.step}")`);
  if (!/^\d+$/.test(f.incidents)) throw new UsageError(`--incidents must be a whole number (got "${f.incidents}")`);
  let initial = f.scenario;
  let switches: Array<{ offsetSeconds: number; scenario: string }> = [];
  if (f.schedule !== undefined) {
    try {
      const parsed = parseSchedule(f.schedule);
      initial = parsed.initial;
      switches = parsed.switches;
    } catch (e) {
      throw asUsage(e);
    }
  }
  const sim = simulationFromFlags({ ...f, scenario: initial });
  // whole steps, so backfilled samples line up with the sidecar's query grid
  const end = Math.floor(parseTime(f.end, ctx.now()) / step) * step;
  const start = end - Math.round((days * 86400) / step) * step;
  for (const sw of switches) sim.switchScenario(parseScenario(sw.scenario), start + sw.offsetSeconds);
  const incidents = scheduleIncidents(sim, Number(f.incidents), start + 3 * 3600, end);
  if (incidents.length < Number(f.incidents)) {
    ctx.stderr.write(`warning: placed ${incidents.length} of ${f.incidents} incidents (no room for more without overlaps)\n`);
  }

  const out: Writable = f.out === undefined ? ctx.stdout : createWriteStream(f.out);
  const bar = ctx.isTTY ? new SingleBar({ format: 'history [{bar}] {percentage}% | ETA {eta}s', stream: ctx.stderr }) : undefined;
  bar?.start(100, 0);
  const started = Date.now();
  const { samples } = await writeHistory(
    sim,
    {
      start,
      end,
      step,
      format: f.format,
      ...(f.job !== '' && f.format === 'openmetrics' ? { job: f.job } : {}),
      onProgress: (p) => bar?.update(Math.round(p * 100)),
    },
    out,
  );
  bar?.stop();
  if (f.out !== undefined) await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const incidentsOut = f.incidentsOut ?? (f.out === undefined ? undefined : `${f.out}.incidents.json`);
  if (incidentsOut !== undefined) await writeFile(incidentsOut, JSON.stringify(incidents, null, 2) + '\n');
  ctx.stderr.write(
    `wrote ${samples} server-steps (${sim.servers.length} servers × ${days} days at ${step}s, ${incidents.length} incidents) ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s${f.out === undefined ? '' : ` to ${f.out}`}` +
      `${incidentsOut === undefined ? '' : `; incidents in ${incidentsOut}`}\n`,
  );
}
