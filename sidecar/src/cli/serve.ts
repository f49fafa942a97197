/** `foresight serve [--config foresight.yml]`: the sidecar. No config = the embedded default (simulated fleet). */
import path from 'node:path';
import { formatDuration } from '@foresight/contract';
import type { Command } from 'commander';
import { ConfigError, ENV_OVERRIDES, loadConfig } from '../config/load';
import { ConfigSchema } from '../config/schema';
import { ModelError } from '../forecast/manifest';
import { createApp } from '../app/app';
import type { AppDescription } from '../app/app';
import type { CliContext } from './context';
import { UsageError } from './errors';
import { logfmtLogger } from '../app/log';

export function addServeCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('serve')
    .description('run the sidecar: read history, forecast, publish Prometheus series (no --config: simulated fleet)')
    .option('--config <file>', 'foresight.yml (see provisioning/foresight/ for examples)')
    .option(
      '--listen <host:port>',
      `address of the HTTP server (/metrics, /, /api/v1/…); wins over FORESIGHT_LISTEN and the config's listen (default ${DEFAULT_LISTEN})`,
    )
    .addHelpText('after', serveHelpText())
    .action(async (f: { config?: string; listen?: string }) => {
      let app;
      const log = logfmtLogger((line) => void ctx.stderr.write(line));
      const shutdown = ctx.untilShutdown().then(() => 'shutdown' as const);
      // --listen is FORESIGHT_LISTEN with the highest precedence (reloads keep it too)
      const env = f.listen === undefined ? ctx.env : { ...ctx.env, FORESIGHT_LISTEN: checkListen(f.listen) };
      let listen: string | undefined;
      try {
        const loaded = await loadConfig(f.config, env);
        listen = loaded.config.listen;
        ctx.setShutdownTimeout(loaded.config.shutdown_timeout);
        app = createApp({ loaded, configFile: f.config, repoRoot, log, env });
        // a signal during start-up (model loading, the first cycle's reads) stops it there
        const started = app.start().then(() => 'started' as const);
        if ((await Promise.race([started, shutdown])) === 'shutdown') {
          started.catch(() => undefined); // whatever start-up still does is undone by stop()
          await app.stop();
          log('shut down during start-up');
          return;
        }
      } catch (e) {
        if (e instanceof ConfigError || e instanceof ModelError) throw new UsageError(e.message);
        throw listenError(e, listen, f.listen !== undefined) ?? e;
      }
      ctx.stdout.write(banner(app.describe()!, f.config));
      ctx.onReload(() => app.requestReload());
      await shutdown;
      await app.stop();
      log('shut down');
    });
}

const DEFAULT_LISTEN = ConfigSchema.shape.listen.parse(undefined);

/** The environment variables and defaults a person starting `serve` needs, under its --help. */
function serveHelpText(): string {
  const width = Math.max(...Object.keys(ENV_OVERRIDES).map((k) => k.length));
  return [
    '',
    `Listens on ${DEFAULT_LISTEN} unless --listen, FORESIGHT_LISTEN or the config's listen says otherwise`,
    '(0.0.0.0:9464 or :9464 for every interface, e.g. in a container).',
    '',
    'Environment variables (they win over the config file; --listen wins over them):',
    ...Object.entries(ENV_OVERRIDES).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
    'Signals: SIGHUP (or POST /-/reload) reloads the config and model; SIGTERM/SIGINT shut down.',
    '',
  ].join('\n');
}

/** The --listen value, checked like the config's listen key (the error names the flag, not a file). */
function checkListen(text: string): string {
  const r = ConfigSchema.shape.listen.safeParse(text);
  if (!r.success) throw new UsageError(`--listen must be host:port, e.g. 127.0.0.1:9464 or :9464 (got "${text}")`);
  return text;
}

/** A listener that cannot be opened, said in one line with what to do (exit status 2, like a config it cannot use); undefined for other errors. */
export function listenError(e: unknown, listen: string | undefined, fromFlag: boolean): UsageError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if ((err?.syscall !== 'listen' && err?.syscall !== 'getaddrinfo') || listen === undefined) return undefined;
  const change = fromFlag ? 'choose another with --listen host:port' : 'choose another with --listen host:port, FORESIGHT_LISTEN or listen: in the config';
  if (err.code === 'EADDRINUSE')
    return new UsageError(`cannot listen on ${listen}: address already in use (another Foresight, or another program, holds the port); stop it or ${change}`);
  if (err.code === 'EACCES') return new UsageError(`cannot listen on ${listen}: permission denied (ports below 1024 need privileges); ${change}`);
  if (err.syscall === 'getaddrinfo') return new UsageError(`cannot listen on ${listen}: unknown host name; ${change}`);
  if (err.code === 'EADDRNOTAVAIL') return new UsageError(`cannot listen on ${listen}: this host has no such address; ${change}`);
  return new UsageError(`cannot listen on ${listen}: ${err.code ?? err.message}; ${change}`);
}

/** What is served, and only the commands that work in this mode. */
export function banner(d: AppDescription, configFile: string | undefined): string {
  const a = d.address;
  const from = configFile ? ` (${path.basename(configFile)})` : d.source.type === 'simulator' ? ' (embedded default)' : '';
  const every = formatDuration(d.cycleSeconds);
  const lines =
    d.source.type === 'simulator'
      ? [
          `Foresight is serving${from} a simulated fleet of ${d.simulatedServers} servers on a simulated clock at ${d.source.clock!.speed}x real time` +
            (d.source.clock!.speed === 1 ? ` (a cycle every ${every})` : ` (a ${every} cycle every ${+d.cycleWallSeconds.toFixed(2)} s of wall time)`),
          `  preview:  ${a}/`,
          `  metrics:  ${a}/metrics`,
          `  fleet:    ${a}/api/v1/fleet`,
          `  scenario: curl -XPOST ${a}/simulator/scenario -d critical      (healthy, busy, degrading, critical)`,
          `  incident: curl -XPOST ${a}/simulator/incidents -d '{"instance":"${d.exampleInstance}","rampMinutes":240}'`,
        ]
      : [
          `Foresight is serving${from} forecasts for the servers in Prometheus at ${d.source.url} (real time, a cycle every ${every})`,
          `  preview:  ${a}/`,
          `  metrics:  ${a}/metrics`,
          `  fleet:    ${a}/api/v1/fleet`,
          `  source:   curl -s ${a}/metrics | grep -E '^foresight_(source_up|last_success)'`,
        ];
  return lines.join('\n') + '\n';
}
