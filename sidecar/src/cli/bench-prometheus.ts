/** `foresight bench-prometheus` (npm run bench:prometheus): see bench/prometheus.ts. */
import path from 'node:path';
import type { Command } from 'commander';
import { missingBinaries, prometheusBinaries, runPrometheusBench } from '../bench/prometheus';
import { parseDuration } from '@foresight/contract';
import { servingContract } from '../forecast/contract';
import { loadModelFiles } from '../forecast/manifest';
import type { CliContext } from './context';
import { UsageError } from './errors';

interface Flags {
  servers: string;
  hours?: string;
  days: string;
  scrapeInterval: string;
  sidecarScrapeInterval: string;
  seed: string;
}

export function addPrometheusBenchCommand(program: Command, ctx: CliContext, repoRoot: string): void {
  program
    .command('bench-prometheus')
    .description(
      'the sidecar against a real Prometheus backfilled (promtool) with a large fleet: source stage time, scrape duration and samples of the sidecar target, history query cost per server; updates the table in docs/scaling.md',
    )
    .option('--servers <n>', 'simulated servers backfilled', '2000')
    .option('--hours <n>', "hours of history at the full scrape interval (default: the shipped model's 5-minute history and one more hour, 31 h for 30 h)")
    .option('--days <n>', 'days of history in all; before the last --hours only the hourly samples an hourly read needs', '8')
    .option('--scrape-interval <duration>', 'scrape interval of the backfilled node_exporter history', '60s')
    .option('--sidecar-scrape-interval <duration>', 'how often Prometheus scrapes the sidecar', '15s')
    .option('--seed <n>', 'simulator seed', '1')
    .action(async (f: Flags) => {
      const whole = (name: string, v: string, min: number): number => {
        if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min} (got "${v}")`);
        return Number(v);
      };
      const servers = whole('servers', f.servers, 1);
      const hours = f.hours === undefined ? await modelHours(repoRoot) : whole('hours', f.hours, 1);
      const days = Number(f.days);
      if (!(days * 24 >= hours) || !Number.isFinite(days)) throw new UsageError(`--days must be a number of days covering --hours (got "${f.days}")`);
      const scrape = parseDuration(f.scrapeInterval);
      // rate()[5m] needs two samples inside its window
      if (scrape === undefined || scrape < 1 || scrape > 150)
        throw new UsageError(`--scrape-interval must be a duration from 1s to 150s (got "${f.scrapeInterval}")`);
      const sidecarScrape = parseDuration(f.sidecarScrapeInterval);
      if (sidecarScrape === undefined || sidecarScrape < 1)
        throw new UsageError(`--sidecar-scrape-interval must be a duration of at least 1s (got "${f.sidecarScrapeInterval}")`);
      const seed = whole('seed', f.seed, 0);
      const missing = missingBinaries(prometheusBinaries(ctx.env));
      if (missing.length > 0) {
        throw new UsageError(
          `bench-prometheus needs Prometheus' own binaries; missing: ${missing.join(', ')}. Install them (Debian: apt-get install prometheus) ` +
            'or point FORESIGHT_PROMETHEUS_BIN and FORESIGHT_PROMTOOL_BIN at them.',
        );
      }
      const bench = runPrometheusBench(
        repoRoot,
        { servers, denseSeconds: hours * 3600, totalSeconds: Math.round(days * 86400), scrapeSeconds: scrape, sidecarScrapeSeconds: sidecarScrape, seed },
        (m) => ctx.stderr.write(`bench: ${m}\n`),
      );
      // Ctrl-C ends the command; Prometheus and promtool are killed when the process exits
      const interrupted = ctx.untilShutdown().then(() => {
        throw new Error('bench-prometheus interrupted');
      });
      const r = await Promise.race([bench, interrupted]);
      ctx.stdout.write(r.markdown);
    });
}

/** Hours of 5-minute history the shipped model reads, and one more (rate()'s window and the first points need samples before it). */
async function modelHours(repoRoot: string): Promise<number> {
  const { manifest } = await loadModelFiles(path.join(repoRoot, 'models', 'foresight-tft'));
  return Math.ceil((servingContract(manifest).historyLength * manifest.step_seconds) / 3600) + 1;
}
