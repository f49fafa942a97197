/** `foresight serve [--config foresight.yml]`: the sidecar. No config = the embedded default (simulated fleet). */
import path from 'node:path';
import { formatDuration } from '../config/duration';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load';
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
    .action(async (f: { config?: string }) => {
      let app;
      const log = logfmtLogger((line) => void ctx.stderr.write(line));
      const shutdown = ctx.untilShutdown().then(() => 'shutdown' as const);
      try {
        const loaded = await loadConfig(f.config, ctx.env);
        ctx.setShutdownTimeout(loaded.config.shutdown_timeout);
        app = createApp({ loaded, configFile: f.config, repoRoot, log, env: ctx.env });
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
        throw e;
      }
      ctx.stdout.write(banner(app.describe()!, f.config));
      ctx.onReload(() => app.requestReload());
      await shutdown;
      await app.stop();
      log('shut down');
    });
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
