/** Generated documentation stays in step with the code. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { withReference } from '../src/config/reference';
import { ALL_SERIES } from '../src/exporter/metrics';

const README = path.join(__dirname, '..', '..', 'README.md');

test('when the config schema changes, then the README reference must be regenerated (npm run docs)', async () => {
  const readme = await readFile(README, 'utf8');
  expect(withReference(readme)).toBe(readme);
});

test('when the README lists published series, then every one exists in the metrics module', async () => {
  const readme = await readFile(README, 'utf8');
  const named = new Set([...readme.matchAll(/`(foresight_[a-z_]+)`/g)].map((m) => m[1]!).filter((n) => !n.startsWith('foresight_simulator_')));
  const defined = new Set(ALL_SERIES.map((s) => s.name));
  expect([...named].filter((n) => !defined.has(n))).toEqual([]);
});
