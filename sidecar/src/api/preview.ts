/**
 * GET /: a preview page for trying Foresight without Grafana. With the plugin built
 * (plugin/dist-preview/preview.js) it renders the panel's own heatmap and cone views from the
 * sidecar's API; without it, a plain fleet table and a note saying how to get the views (and,
 * while the source is down, which source and since when). Every label value is inserted as text,
 * never as HTML.
 */
export function renderPreviewPage(withViews: boolean): string {
  if (withViews) {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Foresight preview</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:12px 16px;color:#24292e}h1{font-size:18px;margin:0}</style></head>
<body><h1>Foresight</h1><div id="root"></div><script src="preview.js"></script></body></html>
`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Foresight preview</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.stale{color:#b00}
</style></head>
<body>
<h1>Foresight</h1>
<p id="status">loading…</p>
<p>The heatmap and forecast cones need the panel plugin built: run <code>npm run build</code> and restart.</p>
<table id="fleet"><thead><tr><th>instance</th><th>profile</th><th>ready</th><th>cpu %</th><th>memory %</th><th>disk %</th><th>iowait %</th><th>load/core</th><th>network B/s</th></tr></thead><tbody></tbody></table>
<p>Series: <a href="/metrics">/metrics</a> · API: <a href="/api/v1/fleet">/api/v1/fleet</a></p>
<script>
const cols = ['cpu','memory','disk','iowait','load','network'];
async function refresh() {
  const r = await fetch('/api/v1/fleet'); const f = await r.json();
  const status = document.getElementById('status');
  const src = f.source ? (f.source.type === 'prometheus' ? 'Prometheus at ' + f.source.url : 'the simulated fleet') : 'the source';
  const down = f.stale ? ' — ' + src + ' is down' + (f.source && f.source.downSince ? ' since ' + new Date(f.source.downSince * 1000).toISOString() : '') : '';
  status.textContent = (f.origin ? 'forecast origin ' + new Date(f.origin * 1000).toISOString() + (f.stale ? down + ', showing the last good forecasts' : '') : 'waiting for the first cycle' + down);
  status.className = f.stale ? 'stale' : '';
  const body = document.querySelector('#fleet tbody'); body.replaceChildren();
  for (const i of f.instances) {
    const tr = document.createElement('tr');
    for (const v of [i.instance, i.profile, i.ready ? 'yes' : 'no', ...cols.map(c => i.current[c] == null ? '' : (c === 'network' ? Math.round(i.current[c]) : i.current[c].toFixed(1)))]) {
      const td = document.createElement('td'); td.textContent = String(v); tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}
refresh(); new EventSource('/api/v1/stream').addEventListener('cycle', refresh);
</script>
</body></html>
`;
}
