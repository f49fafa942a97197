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

export function addServeCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('serve')
    .description('run the sidecar: read history, forecast, publish Prometheus series (no --config: simulated fleet)')
    .option('--config <file>', 'foresight.yml (see provisioning/foresight/ for examples)')
    .action(async (f: { config?: string }) => {
      let app;
      try {
        const loaded = await loadConfig(f.config, ctx.env);
        app = createApp({ loaded, configFile: f.config, repoRoot, log: (l) => ctx.stderr.write(`${l}\n`), env: ctx.env });
        await app.start();
      } catch (e) {
        if (e instanceof ConfigError || e instanceof ModelError) throw new UsageError(e.message);
        throw e;
      }
      ctx.stdout.write(banner(app.describe()!, f.config));
      ctx.onReload(() => {
        app.reload().catch(() => undefined); // the app logs why and keeps serving
      });
      await ctx.untilShutdown();
      await app.stop();
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
