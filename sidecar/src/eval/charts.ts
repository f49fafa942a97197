/** PNG charts for EVAL.md, drawn as SVG and rasterised with resvg (no browser needed). */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GroupResult } from './run';

const COLORS = ['#1f77b4', '#7f7f7f', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function polyline(xs: number[], ys: number[], color: string, width = 1.5): string {
  const pts = xs.map((x, i) => `${x.toFixed(1)},${ys[i]!.toFixed(1)}`).join(' ');
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts}"/>`;
}

function maseChart(groups: readonly GroupResult[]): string {
  const w = 480;
  const h = 300;
  const panels = groups.map((g, gi) => {
    const models = Object.keys(g.scores);
    const horizons = Object.keys(g.scores[models[0]!]!);
    const all = models.flatMap((m) => horizons.map((hz) => g.scores[m]![hz]!.mase)).filter(Number.isFinite);
    const max = Math.max(1.2, ...all) * 1.05;
    const x = (i: number): number => gi * w + 60 + (i * (w - 90)) / (horizons.length - 1);
    const y = (v: number): number => 40 + (1 - v / max) * (h - 90);
    let s = `<text x="${gi * w + 60}" y="22" font-size="14" font-weight="bold">${esc(g.group)}: MASE by horizon</text>`;
    for (let t = 0; t <= max; t += max > 3 ? 1 : 0.25) {
      s += `<line x1="${gi * w + 60}" x2="${gi * w + w - 30}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${gi * w + 55}" y="${y(t) + 4}" font-size="10" text-anchor="end">${t.toFixed(2)}</text>`;
    }
    horizons.forEach((hz, i) => (s += `<text x="${x(i)}" y="${h - 35}" font-size="11" text-anchor="middle">${hz}</text>`));
    models.forEach((m, mi) => {
      const ys = horizons.map((hz) => y(g.scores[m]![hz]!.mase));
      s += polyline(horizons.map((_, i) => x(i)), ys, COLORS[mi % COLORS.length]!, mi === 0 ? 3 : 1.5);
    });
    return s;
  });
  const legend = Object.keys(groups[0]?.scores ?? {})
    .map((m, mi) => `<rect x="${10 + (mi % 4) * 235}" y="${h + 5 + Math.floor(mi / 4) * 16}" width="12" height="4" fill="${COLORS[mi % COLORS.length]}"/><text x="${26 + (mi % 4) * 235}" y="${h + 10 + Math.floor(mi / 4) * 16}" font-size="11">${esc(m)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(1, groups.length) * w}" height="${h + 40}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${panels.join('')}${legend}</svg>`;
}

function examplesChart(groups: readonly GroupResult[]): string {
  const examples = groups.flatMap((g) => g.examples.map((e) => ({ ...e, title: `${g.group.replace('held-out ', '')}: ${e.title}` })));
  const w = 480;
  const h = 220;
  const cols = 2;
  const rows = Math.ceil(examples.length / cols);
  const panels = examples.map((e, k) => {
    const ox = (k % cols) * w;
    const oy = Math.floor(k / cols) * h;
    const n = e.history.length + e.actual.length;
    const vals = [...e.history, ...e.actual, ...e.bands.flatMap(([lo, hi]) => [...lo, ...hi])].filter(Number.isFinite);
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const x = (i: number): number => ox + 40 + (i * (w - 60)) / (n - 1);
    const y = (v: number): number => oy + 30 + (1 - (v - lo) / (hi - lo || 1)) * (h - 60);
    let s = `<text x="${ox + 40}" y="${oy + 18}" font-size="12">${esc(e.title)}</text>`;
    const fut = e.actual.map((_, i) => e.history.length + i);
    e.bands.forEach(([l, u], bi) => {
      const top = fut.map((i, j) => `${x(i).toFixed(1)},${y(u[j]!).toFixed(1)}`);
      const bottom = fut.map((i, j) => `${x(i).toFixed(1)},${y(l[j]!).toFixed(1)}`).reverse();
      s += `<polygon points="${[...top, ...bottom].join(' ')}" fill="#1f77b4" fill-opacity="${0.15 + bi * 0.12}"/>`;
    });
    s += polyline(e.history.map((_, i) => x(i)), e.history.map(y), '#333', 1);
    s += polyline(fut.map(x), e.actual.map(y), '#333', 1);
    s += polyline(fut.map(x), e.p50.map(y), '#1f77b4', 2);
    s += `<line x1="${x(e.history.length - 1)}" x2="${x(e.history.length - 1)}" y1="${oy + 25}" y2="${oy + h - 25}" stroke="#d62728" stroke-dasharray="4 3"/>`;
    s += `<text x="${ox + 35}" y="${y(hi) + 4}" font-size="9" text-anchor="end">${hi.toPrecision(3)}</text><text x="${ox + 35}" y="${y(lo) + 4}" font-size="9" text-anchor="end">${lo.toPrecision(3)}</text>`;
    return s;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${Math.max(1, rows) * h + 20}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${panels.join('')}<text x="40" y="${Math.max(1, rows) * h + 12}" font-size="10">black: actual (24 h history, 8 h ahead) · blue: p50 with 25–75, 10–90, 5–95 bands · red: forecast origin</text></svg>`;
}

/** Writes the two charts next to EVAL.md and returns their file names. */
export async function renderCharts(dir: string, groups: readonly GroupResult[]): Promise<{ mase: string; examples: string }> {
  const { Resvg } = await import('@resvg/resvg-js');
  const render = (svg: string): Buffer => new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  await writeFile(path.join(dir, 'eval-mase.png'), render(maseChart(groups)));
  await writeFile(path.join(dir, 'eval-examples.png'), render(examplesChart(groups)));
  return { mase: 'eval-mase.png', examples: 'eval-examples.png' };
}
