/**
 * What can be checked of the full stack without Docker: docker-compose.yml, Grafana dashboards,
 * Kubernetes manifests and the generated PrometheusRule.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ALL_SERIES } from '../src/exporter/metrics';
import { prometheusRuleFrom } from '../src/cli/k8s';

const REPO = path.join(__dirname, '..', '..');
const read = (p: string): string => readFileSync(path.join(REPO, p), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  command?: string[];
  environment?: Record<string, string>;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = compose.services;

  test('when it is parsed, then it has the whole stack and a gpu profile', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'foresight', 'foresight-gpu', 'grafana', 'node-exporter', 'prometheus', 'simulator']);
    expect((services['foresight-gpu'] as { profiles?: string[] }).profiles).toEqual(['gpu']);
  });

  test('when images are listed, then every one is pinned to a version', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, pinned: /:v?[0-9][^:]*$/.test(s.image ?? '') }).toEqual({ name, pinned: true });
    }
  });

  test('when paths are mounted, then each exists in the repository (plugin/dist after a build)', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const host = v.split(':')[0]!;
        if (host === './plugin/dist') continue; // produced by `npm run build`
        if (!host.startsWith('.') && !host.startsWith('/')) {
          // a named volume: declared at the top level
          expect({ name, volume: host, declared: Object.keys(compose.volumes ?? {}).includes(host) }).toEqual({ name, volume: host, declared: true });
          continue;
        }
        expect({ name, host, exists: existsSync(path.join(REPO, host)) }).toEqual({ name, host, exists: true });
      }
    }
  });

  test('when the configs name services and ports, then they agree with the compose file', () => {
    const prom = parse(read('provisioning/prometheus/prometheus.yml')) as {
      alerting: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> };
      scrape_configs: Array<{ job_name: string; honor_labels?: boolean; static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = [
      ...prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)),
      ...prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets)),
    ];
    for (const t of targets) {
      const [host, port] = t.split(':') as [string, string];
      const s = services[host];
      expect({ t, service: Boolean(s) }).toEqual({ t, service: true });
      const published = [...(s!.ports ?? []).map((p) => p.split(':')[1]), ...(s!.expose ?? [])];
      const listens = (s!.command ?? []).join(' ');
      expect({ t, port: published.includes(port) || listens.includes(`:${port}`) }).toEqual({ t, port: true });
    }
    expect(prom.scrape_configs.find((c) => c.job_name === 'foresight')?.honor_labels).toBe(true);
    const sidecar = parse(read('provisioning/foresight/foresight.yml')) as { listen: string; source: { prometheus: { url: string } } };
    expect(sidecar.source.prometheus.url).toBe('http://prometheus:9090');
    expect(services['foresight']!.ports).toContain(`${sidecar.listen.split(':')[1]}:${sidecar.listen.split(':')[1]}`);
    const ds = parse(read('provisioning/grafana/datasources/prometheus.yml')) as { datasources: Array<{ url: string; uid: string }> };
    expect(ds.datasources[0]).toMatchObject({ url: 'http://prometheus:9090', uid: 'foresight-prometheus' });
    expect(services['grafana']!.environment?.['GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS']).toBe('foresight-risk-panel');
  });
});

describe('Grafana dashboards', () => {
  const dir = path.join(REPO, 'provisioning', 'grafana', 'dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const defined = new Set([
    ...ALL_SERIES.map((s) => s.name),
    'foresight:fleet_instances:count_by_severity',
    'foresight:fleet_risk_score:max',
    'foresight:fleet_risk_score:avg',
    'foresight:fleet_predicted_risk_score:max',
  ]);

  test('when the dashboards are read, then both parse and use the provisioned datasource uid', () => {
    expect(files.sort()).toEqual(['foresight-fleet.json', 'foresight-server.json']);
    for (const f of files) {
      const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { uid: string; panels: Array<{ datasource?: { uid: string } | null }> };
      expect(d.uid).toBe(f.replace('.json', ''));
      for (const p of d.panels) if (p.datasource) expect(p.datasource.uid).toBe('foresight-prometheus');
    }
  });

  test('when a panel is the Foresight plugin, then it only sets options the plugin defines, with values it accepts', () => {
    const module = readFileSync(path.join(REPO, 'plugin', 'src', 'module.ts'), 'utf8');
    const paths = new Set([...module.matchAll(/path: '([A-Za-z]+)'/g)].map((m) => m[1]!));
    if (module.includes('levelColors[')) paths.add('levelColors');
    expect(paths.size).toBeGreaterThan(5);
    let seen = 0;
    for (const f of files) {
      const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { panels: Array<{ type: string; title: string; options?: Record<string, unknown> }> };
      for (const p of d.panels.filter((x) => x.type === 'foresight-risk-panel')) {
        seen++;
        expect({ panel: p.title, unknown: Object.keys(p.options ?? {}).filter((k) => !paths.has(k)) }).toEqual({ panel: p.title, unknown: [] });
        expect(['heatmap', 'cones', 'both']).toContain(p.options?.['view']);
        expect(['worstCurrent', 'worstPredicted', 'name']).toContain(p.options?.['sort']);
      }
    }
    // the fleet heatmap, its cones, and the server's cones
    expect(seen).toBe(3);
  });

  test('when queries name Foresight series, then each exists in the metrics module or the recording rules', () => {
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const used = [...text.matchAll(/\b(foresight(?:_[a-z_]+|:[a-z_:]+))/g)]
        .map((m) => m[1]!)
        .filter((n) => !n.startsWith('foresight_prometheus') && n !== 'foresight-prometheus');
      expect({ f, unknown: [...new Set(used)].filter((n) => !defined.has(n) && !n.endsWith('_sum') && !n.endsWith('_count')) }).toEqual({ f, unknown: [] });
    }
  });
});

describe('Kubernetes manifests', () => {
  test('when the manifests are parsed, then they hold the StatefulSet, Service, ConfigMap and ServiceMonitor', () => {
    const kinds = parseAllDocuments(read('provisioning/kubernetes/foresight.yaml')).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.sort()).toEqual(['ConfigMap', 'Service', 'ServiceMonitor', 'StatefulSet']);
  });

  test('when the PrometheusRule is compared with the rule file, then it is exactly what npm run k8s generates', () => {
    expect(read('provisioning/kubernetes/prometheusrule.yaml')).toBe(prometheusRuleFrom(read('provisioning/prometheus/rules/foresight.rules.yml')));
  });
});
