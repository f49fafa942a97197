/**
 * Gate for integration tests that need real binaries (Prometheus, promtool, Alertmanager, …).
 *
 * When a binary is missing the suite is skipped with the reason printed, unless
 * FORESIGHT_REQUIRE_INTEGRATION=1 (set by .ci/run): then it fails, naming what is missing.
 */
import { accessSync, constants } from 'node:fs';

export const BINARIES = {
  prometheus: process.env['FORESIGHT_PROMETHEUS_BIN'] ?? '/usr/bin/prometheus',
  promtool: process.env['FORESIGHT_PROMTOOL_BIN'] ?? '/usr/bin/promtool',
  alertmanager: process.env['FORESIGHT_ALERTMANAGER_BIN'] ?? '/usr/bin/prometheus-alertmanager',
  amtool: process.env['FORESIGHT_AMTOOL_BIN'] ?? '/usr/bin/amtool',
} as const;
export type BinaryName = keyof typeof BINARIES;

export function requireIntegration(): boolean {
  return process.env['FORESIGHT_REQUIRE_INTEGRATION'] === '1';
}

function missing(names: readonly BinaryName[]): string[] {
  return names
    .filter((n) => {
      try {
        accessSync(BINARIES[n], constants.X_OK);
        return false;
      } catch {
        return true;
      }
    })
    .map((n) => `${n} (${BINARIES[n]})`);
}

/**
 * `describe` for a suite that needs these binaries: runs it when they exist; otherwise skips
 * it with a printed reason, or fails it when integration is required.
 */
export function describeWith(names: readonly BinaryName[]): jest.Describe {
  const absent = missing(names);
  if (absent.length === 0) return describe;
  const reason = `missing ${absent.join(', ')}; install them (see .ci/run) to run this suite`;
  if (requireIntegration()) {
    const failing = ((name: string, fn: () => void) =>
      describe(name, () => {
        test('has the binaries it needs', () => {
          throw new Error(`FORESIGHT_REQUIRE_INTEGRATION=1 but ${reason}`);
        });
        void fn;
      })) as unknown as jest.Describe;
    return failing;
  }
  process.stderr.write(`skipping integration suite: ${reason}\n`);
  return describe.skip;
}
