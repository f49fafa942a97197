/**
 * Provisioning YAML is code (checked like code): the rule file passes promtool check and its
 * unit tests, Alertmanager's config passes amtool, and every severity routes where it should.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BINARIES, describeWith } from './harness/integration';
import { ALL_SERIES } from '../src/exporter/metrics';
import { LEVELS } from '../src/risk/levels';

const PROV = path.join(__dirname, '..', '..', 'provisioning');
const RULES = path.join(PROV, 'prometheus', 'rules');
const AM = path.join(PROV, 'alertmanager', 'alertmanager.yml');

function run(bin: string, args: string[], cwd = PROV): { status: number | null; out: string } {
  const r = spawnSync(bin, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describeWith(['promtool'])('Prometheus rules', () => {
  test('when the rule file is checked, then promtool accepts all of it', () => {
    const r = run(BINARIES.promtool, ['check', 'rules', 'foresight.rules.yml'], RULES);
    expect(r.status).toBe(0);
    expect(r.out).toContain('SUCCESS: 23 rules found');
  });

  test('when the rule unit tests run, then every level, pending vs firing, the early warning and self-monitoring pass', () => {
    const r = run(BINARIES.promtool, ['test', 'rules', 'foresight.rules.test.yml'], RULES);
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('when prometheus.yml is checked, then promtool accepts it with its rule file', () => {
    const r = run(BINARIES.promtool, ['check', 'config', 'prometheus.yml'], path.join(PROV, 'prometheus'));
    expect(r.status).toBe(0);
  });
});

describe('rule conventions', () => {
  const doc = parse(readFileSync(path.join(RULES, 'foresight.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
  const alerts = doc.groups.flatMap((g) => g.rules).filter((r) => 'alert' in r) as Array<{
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }>;

  test('when an alert is declared, then it has for:, a severity that is a level name, a fixed summary, a templated description, a runbook and a dashboard', () => {
    const levelNames = LEVELS.map((l) => l.name as string);
    for (const a of alerts) {
      expect({ alert: a.alert, ok: Boolean(a.for) && levelNames.includes(a.labels['severity']!) && Boolean(a.labels['sla']) }).toEqual({
        alert: a.alert,
        ok: true,
      });
      expect(a.annotations['summary']).not.toContain('{{');
      expect(a.annotations['description']).toContain('{{');
      expect(a.annotations['runbook_url']).toMatch(/^https:\/\/.+#[a-z]+$/);
      expect(a.annotations['dashboard']).toMatch(/^https:\/\//);
    }
    // one alert per alerting level
    expect(
      alerts
        .filter((a) => /^foresight_severity_level >= \d$/.test(a.expr))
        .map((a) => a.labels['severity'])
        .sort(),
    ).toEqual(['critical', 'danger', 'degrading', 'imminent_failure', 'warning']);
  });

  test("when rules name foresight_* series, then each exists in the sidecar's metrics module", () => {
    const text = readFileSync(path.join(RULES, 'foresight.rules.yml'), 'utf8');
    const used = new Set([...text.matchAll(/\b(foresight_[a-z_]+)\b/g)].map((m) => m[1]!));
    const defined = new Set(ALL_SERIES.map((s) => s.name));
    expect([...used].filter((n) => !defined.has(n))).toEqual([]);
  });
});

describeWith(['amtool'])('Alertmanager routing', () => {
  test('when alertmanager.yml is checked, then amtool accepts it', () => {
    const r = run(BINARIES.amtool, ['check-config', AM]);
    expect(r.status).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  test.each([
    ['imminent_failure', 'pager-escalation'],
    ['critical', 'pager-oncall'],
    ['danger', 'team-lead'],
    ['warning', 'team-channel'],
    ['degrading', 'team-email'],
    ['watch', 'default-webhook'],
  ])('when an alert has severity %s, then it routes to %s', (severity, receiver) => {
    const r = spawnSync(
      BINARIES.amtool,
      ['config', 'routes', 'test', `--config.file=${AM}`, `severity=${severity}`, 'alertname=ForesightCritical', 'instance=ppml0001'],
      { encoding: 'utf8' },
    );
    expect(r.stdout.trim()).toBe(receiver);
  });
});
