/**
 * `npm run eval:risk`: replays simulated days through the sidecar's own stages (simulator
 * source → forecast → risk) and reports, per scenario, servers per level, false warnings per
 * healthy server-day, and early-warning lead time on injected incidents against a random-alert
 * control at the same alert rate. Writes docs/eval-risk.md and docs/eval-risk.png.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig } from '../config/load';
import { createRuntime, forecastOptions, readForModel } from '../app/runtime';
import type { Runtime } from '../app/runtime';
import { forecastWindow } from '../forecast/forecaster';
import { median } from './metrics';
import { assessFleet } from '../risk/assess';
import { LEVELS } from '../risk/levels';
import { uniform } from '../simulator/random';
import type { ScenarioName } from '../simulator/scenario';

const STEP = 300;
const WARNING = 3;

interface Timeline {
  readonly times: number[];
  /** instance → level per cycle */
  readonly levels: Map<string, number[]>;
}

async function replay(rt: Runtime, from: number, cycles: number, stride: number): Promise<Timeline> {
  const times: number[] = [];
  const levels = new Map<string, number[]>();
  const previous = new Map<string, number>();
  for (let k = 0; k < cycles; k++) {
    const end = from + k * stride;
    const { window, context } = await readForModel(rt, end);
    const result = await forecastWindow(window, forecastOptions(rt), context);
    const risk = assessFleet(window, result.instances, (p) => rt.thresholds[p], rt.manifest.quantiles, rt.horizons, previous);
    times.push(end);
    for (const [i, r] of risk) {
      previous.set(i, r.level);
      const list = levels.get(i) ?? [];
      list.push(r.level);
      levels.set(i, list);
    }
  }
  return { times, levels };
}

export interface RiskEvalResult {
  readonly markdown: string;
}

export async function runRiskEval(repoRoot: string, log: (m: string) => void): Promise<RiskEvalResult> {
  // a Wednesday 00:00 UTC, after the simulator's 2 days of history
  const start = Date.UTC(2026, 10, 18) / 1000;
  const rows: string[] = [];
  const scenarioRows: Array<{ scenario: ScenarioName; counts: number[] }> = [];
  let healthyTimeline: Timeline | undefined;
  let incidents: Array<{ id: string; instance: string; onset: number; crossing: number; end: number }> = [];
  for (const scenario of ['healthy', 'degrading', 'critical'] as const) {
    const loaded = await parseConfig({ source: { type: 'simulator' }, model: { device: 'cpu' } }, 'eval:risk');
    const rt = await createRuntime(loaded, repoRoot, start);
    const sim = rt.simulation!;
    try {
      if (scenario === 'healthy') {
        // one day at 5-minute cycles with 6 incidents (memory leaks, disk fills) ramping 1–4 h
        const slots = [
          ['ppml0003', 3, 150],
          ['ppdb002', 7, 200],
          ['ppweb001', 10, 90],
          ['ppdi001', 13, 240],
          ['ppra001', 16, 120],
          ['ppml0008', 19, 180],
        ] as const;
        incidents = slots
          .map(([instance, hour, ramp]) => sim.injectIncident({ instance, onset: start + hour * 3600, rampSeconds: ramp * 60 }))
          .map((i) => i.toJSON());
        log(`healthy: replaying 24 h with ${incidents.length} incidents`);
        healthyTimeline = await replay(rt, start, 288, STEP);
      } else {
        sim.switchScenario(scenario, start + 3600);
        log(`${scenario}: replaying 2 h (switch at +1 h)`);
        const t = await replay(rt, start, 25, STEP);
        const counts = LEVELS.map((_, l) => [...t.levels.values()].filter((v) => v[v.length - 1] === l).length);
        scenarioRows.push({ scenario, counts });
      }
    } finally {
      await rt.runner.stop();
    }
  }
  const t = healthyTimeline!;
  // false warnings: warning-or-worse episodes on a server outside its incidents (onset … end + 1 h)
  const inIncident = (instance: string, time: number): boolean => incidents.some((i) => i.instance === instance && time >= i.onset && time <= i.end + 3600);
  let falseEpisodes = 0;
  let serverCycles = 0;
  let alertCycles = 0;
  for (const [instance, lv] of t.levels) {
    let inEpisode = false;
    lv.forEach((l, k) => {
      if (inIncident(instance, t.times[k]!)) {
        inEpisode = false;
        return;
      }
      serverCycles++;
      if (l >= WARNING) {
        alertCycles++;
        if (!inEpisode) falseEpisodes++;
        inEpisode = true;
      } else inEpisode = false;
    });
  }
  const serverDays = (serverCycles * STEP) / 86400;
  const falsePerDay = falseEpisodes / serverDays;
  // lead time: first warning-or-worse at or after onset, before the crossing
  const leads = incidents.map((inc) => {
    const lv = t.levels.get(inc.instance)!;
    const k = t.times.findIndex((time, j) => time >= inc.onset && time <= inc.crossing && lv[j]! >= WARNING);
    return k < 0 ? 0 : (inc.crossing - t.times[k]!) / 60;
  });
  // control: random alerts at the same per-cycle rate the engine raised on healthy servers
  // (at least one per day per server, so the control is not trivially silent)
  const rate = Math.max(alertCycles / Math.max(1, serverCycles), 1 / 288);
  const controlLeads: number[] = [];
  incidents.forEach((inc, n) => {
    for (let draw = 0; draw < 200; draw++) {
      let lead = 0;
      for (let time = inc.onset, j = 0; time <= inc.crossing; time += STEP, j++) {
        if (uniform(7, n, draw, j) < rate) {
          lead = (inc.crossing - time) / 60;
          break;
        }
      }
      controlLeads.push(lead);
    }
  });
  const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
  rows.push(
    `Generated by \`npm run eval:risk\` on ${new Date().toISOString().slice(0, 10)} with the shipped model: the sidecar's own stages (simulator source → TFT forecast → risk) replayed on a driven clock, 20 servers, 5-minute cycles.\n`,
  );
  rows.push('### Servers per level, one hour after the scenario switch\n');
  rows.push(`| scenario | ${LEVELS.map((l) => l.name).join(' | ')} |\n|---|${LEVELS.map(() => '---:').join('|')}|`);
  const healthyCounts = LEVELS.map((_, l) => [...t.levels.values()].filter((v) => v[v.length - 1] === l).length);
  rows.push(`| healthy (end of day) | ${healthyCounts.join(' | ')} |`);
  for (const r of scenarioRows) rows.push(`| ${r.scenario} | ${r.counts.join(' | ')} |`);
  rows.push('\n### Early warning on injected incidents (healthy day)\n');
  rows.push('| incident | instance | ramp | lead time (min) |\n|---|---|---:|---:|');
  incidents.forEach((inc, n) => rows.push(`| ${inc.id} | ${inc.instance} | ${fmt((inc.crossing - inc.onset) / 60)} min | ${fmt(leads[n]!)} |`));
  rows.push('');
  rows.push(`| measure | value |\n|---|---:|`);
  rows.push(`| median lead time, Foresight (warning or worse before the crossing) | ${fmt(median(leads))} min |`);
  rows.push(`| median lead time, random alerts at the same rate (${(rate * 100).toFixed(2)} % of server-cycles) | ${fmt(median(controlLeads))} min |`);
  rows.push(`| false warnings (warning-or-worse episodes outside incidents) per healthy server-day | ${fmt(falsePerDay, 3)} |`);
  const markdown = rows.join('\n') + '\n\n![Severity timeline of the healthy day](eval-risk.png)\n';
  const docs = path.join(repoRoot, 'docs');
  await writeFile(path.join(docs, 'eval-risk.md'), `# Risk engine evaluation\n\n${markdown}`);
  await writeFile(path.join(docs, 'eval-risk.png'), await timelinePng(t, incidents));
  return { markdown };
}

async function timelinePng(t: Timeline, incidents: ReadonlyArray<{ instance: string; crossing: number }>): Promise<Buffer> {
  const colors = ['#2e7d32', '#8bc34a', '#fdd835', '#fb8c00', '#e53935', '#b71c1c', '#4a148c'];
  const names = [...t.levels.keys()];
  const cw = 3;
  const rh = 16;
  const left = 90;
  const w = left + t.times.length * cw + 20;
  const h = 30 + names.length * rh + 40;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>`;
  svg += `<text x="${left}" y="18" font-size="12">Severity per server over the healthy day (5-minute cycles); black ticks: recorded threshold crossings of injected incidents</text>`;
  names.forEach((name, r) => {
    const y = 28 + r * rh;
    svg += `<text x="${left - 6}" y="${y + 12}" font-size="10" text-anchor="end">${name}</text>`;
    t.levels.get(name)!.forEach((l, k) => (svg += `<rect x="${left + k * cw}" y="${y}" width="${cw}" height="${rh - 2}" fill="${colors[l]}"/>`));
    for (const inc of incidents.filter((i) => i.instance === name)) {
      const k = t.times.findIndex((time) => time >= inc.crossing);
      if (k >= 0) svg += `<rect x="${left + k * cw - 1}" y="${y - 2}" width="2" height="${rh + 2}" fill="black"/>`;
    }
  });
  LEVELS.forEach(
    (l, i) =>
      (svg += `<rect x="${left + i * 110}" y="${h - 28}" width="12" height="12" fill="${colors[i]}"/><text x="${left + i * 110 + 16}" y="${h - 18}" font-size="10">${l.name}</text>`),
  );
  svg += '</svg>';
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
