/** `foresight serve [--config foresight.yml]`: the sidecar. No config = the embedded default (simulated fleet). */
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load';
import { ModelError } from '../forecast/manifest';
import { createApp } from '../app/app';
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
      const a = app.address();
      ctx.stdout.write(
        `Foresight is serving ${f.config ? `(${path.basename(f.config)})` : 'the embedded default: a simulated fleet of 20 servers'}\n` +
          `  preview:  ${a}/\n  metrics:  ${a}/metrics\n  fleet:    ${a}/api/v1/fleet\n` +
          (f.config ? '' : `  scenario: curl -XPOST ${a}/simulator/scenario -d critical\n`),
      );
      ctx.onReload(() => {
        app.reload().catch(() => undefined); // the app logs why and keeps serving
      });
      await ctx.untilShutdown();
      await app.stop();
    });
}
