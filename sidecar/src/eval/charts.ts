/** PNG charts for EVAL.md, drawn as SVG and rasterised with resvg (no browser needed). */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlotCase } from './run';

const COLORS = ['#1f77b4', '#7f7f7f', '#2ca02c', '#17becf', '#ff7f0e', '#d62728', '#9467bd', '#8c564b'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function polyline(xs: number[], ys: number[], color: string, width = 1.5, dash = ''): string {
  const pts = xs
    .map((x, i) => [x, ys[i]!] as const)
    .filter(([, y]) => Number.isFinite(y))
    .map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`)
    .join(' ');
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts}"/>`;
}

/** One panel per group: mean MASE of every model by horizon. */
export interface MasePanel {
  readonly title: string;
  readonly horizons: readonly string[];
  /** model → mean MASE per horizon */
  readonly lines: ReadonlyArray<{ readonly model: string; readonly values: readonly number[] }>;
}

function maseChart(panels: readonly MasePanel[]): string {
  const w = 420;
  const h = 280;
  const cols = Math.min(3, panels.length);
  const rows = Math.ceil(panels.length / cols);
  const body = panels.map((p, pi) => {
    const ox = (pi % cols) * w;
    const oy = Math.floor(pi / cols) * h;
    const all = p.lines.flatMap((l) => l.values).filter(Number.isFinite);
    const max = Math.min(4, Math.max(1.2, ...all)) * 1.05;
    const x = (i: number): number => ox + 50 + (i * (w - 80)) / Math.max(1, p.horizons.length - 1);
    const y = (v: number): number => oy + 36 + (1 - Math.min(v, max) / max) * (h - 80);
    let s = `<text x="${ox + 50}" y="${oy + 20}" font-size="13" font-weight="bold">${esc(p.title)}</text>`;
    for (let t = 0; t <= max; t += max > 2.5 ? 1 : 0.25) {
      s += `<line x1="${ox + 50}" x2="${ox + w - 30}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${ox + 45}" y="${y(t) + 4}" font-size="10" text-anchor="end">${t.toFixed(2)}</text>`;
    }
    p.horizons.forEach((hz, i) => (s += `<text x="${x(i)}" y="${oy + h - 30}" font-size="11" text-anchor="middle">${hz}</text>`));
    p.lines.forEach((l, li) => {
      s += polyline(
        p.horizons.map((_, i) => x(i)),
        l.values.map(y),
        COLORS[li % COLORS.length]!,
        li === 0 ? 3 : 1.5,
      );
    });
    return s;
  });
  const models = panels[0]?.lines.map((l) => l.model) ?? [];
  const ly = rows * h + 4;
  const legend = models
    .map(
      (m, mi) =>
        `<rect x="${10 + (mi % 4) * 300}" y="${ly + Math.floor(mi / 4) * 16}" width="14" height="4" fill="${COLORS[mi % COLORS.length]}"/><text x="${30 + (mi % 4) * 300}" y="${ly + 6 + Math.floor(mi / 4) * 16}" font-size="11">${esc(m)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${rows * h + 44}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${body.join('')}${legend}<text x="10" y="${ly + 38}" font-size="10">mean MASE over series (lower is better; 1 = the error of repeating yesterday, in-sample); values above 4 drawn at the top</text></svg>`;
}

/** Hours as a tick label: "−30 h", "+8 h", "0" (at the origin). */
function hoursLabel(h: number): string {
  if (h === 0) return '0';
  const v = Number.isInteger(h) ? String(Math.abs(h)) : Math.abs(h).toFixed(1);
  return `${h < 0 ? '−' : '+'}${v} h`;
}

/**
 * Forecast cases, two per row: history, actual, the model's p50 and p10–p90 band, and one baseline,
 * with a time axis in hours from the origin (5-minute steps). The actual is drawn last, so a
 * baseline that follows it cannot hide it.
 */
export function casesChart(cases: readonly PlotCase[]): string {
  const w = 520;
  const h = 230;
  const cols = 2;
  const rows = Math.ceil(cases.length / cols);
  const panels = cases.map((e, k) => {
    const ox = (k % cols) * w;
    const oy = Math.floor(k / cols) * h;
    const n = e.history.length + e.actual.length;
    const vals = [...e.history, ...e.actual, ...e.p50, ...e.band[0], ...e.band[1], ...e.baseline.values.slice(0, e.actual.length)].filter(Number.isFinite);
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const x = (i: number): number => ox + 45 + (i * (w - 65)) / (n - 1);
    const y = (v: number): number => oy + 34 + (1 - (v - lo) / (hi - lo || 1)) * (h - 66);
    const titleSize = Math.min(10.5, (10.5 * (w - 60)) / (e.title.length * 6)); // about 6 px a character at 10.5: a long title shrinks instead of running into the next panel
    let s = `<text x="${ox + 45}" y="${oy + 16}" font-size="${titleSize.toFixed(1)}">${esc(e.title)}</text>`;
    const fut = e.actual.map((_, i) => e.history.length + i);
    if (e.band[0].length && e.band[1].length) {
      const top = fut.map((i, j) => `${x(i).toFixed(1)},${y(e.band[1][j]!).toFixed(1)}`);
      const bottom = fut.map((i, j) => `${x(i).toFixed(1)},${y(e.band[0][j]!).toFixed(1)}`).reverse();
      s += `<polygon points="${[...top, ...bottom].join(' ')}" fill="#1f77b4" fill-opacity="0.22"/>`;
    }
    s += polyline(
      e.history.map((_, i) => x(i)),
      e.history.map(y),
      '#333',
      1,
    );
    if (e.baseline.values.length) s += polyline(fut.map(x), e.baseline.values.slice(0, fut.length).map(y), '#ff7f0e', 1.5, '5 3');
    s += polyline(fut.map(x), e.p50.slice(0, fut.length).map(y), '#1f77b4', 2);
    s += polyline(fut.map(x), e.actual.map(y), '#000', 1.2);
    const axisY = oy + h - 28;
    s += `<line x1="${x(0).toFixed(1)}" x2="${x(n - 1).toFixed(1)}" y1="${axisY}" y2="${axisY}" stroke="#999"/>`;
    for (const i of [0, e.history.length - 1, n - 1]) {
      const hours = ((i - (e.history.length - 1)) * 5) / 60;
      s += `<text x="${x(i).toFixed(1)}" y="${axisY + 11}" font-size="9" text-anchor="${i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'}">${hoursLabel(hours)}</text>`;
    }
    s += `<line x1="${x(e.history.length - 1)}" x2="${x(e.history.length - 1)}" y1="${oy + 28}" y2="${oy + h - 28}" stroke="#d62728" stroke-dasharray="4 3"/>`;
    s += `<text x="${ox + 40}" y="${y(hi) + 4}" font-size="9" text-anchor="end">${hi.toPrecision(3)}</text><text x="${ox + 40}" y="${y(lo) + 4}" font-size="9" text-anchor="end">${lo.toPrecision(3)}</text>`;
    s += `<text x="${ox + w - 20}" y="${oy + 28}" font-size="9" text-anchor="end" fill="#ff7f0e">dashed: ${esc(e.baseline.name)}</text>`;
    return s;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${Math.max(1, rows) * h + 22}" font-family="DejaVu Sans, sans-serif"><rect width="100%" height="100%" fill="white"/>${panels.join('')}<text x="45" y="${Math.max(1, rows) * h + 14}" font-size="10">black: actual (history, then the 8 h forecast) · blue: the model's p50 with its p10–p90 band · orange dashed: baseline · red: forecast origin · axis: hours from the origin</text></svg>`;
}

async function png(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}

/** Writes the MASE chart to `dir/file`. */
export async function writeMaseChart(dir: string, file: string, panels: readonly MasePanel[]): Promise<string> {
  await writeFile(path.join(dir, file), await png(maseChart(panels)));
  return file;
}

/** Writes a chart of forecast cases to `dir/file`. */
export async function writeCasesChart(dir: string, file: string, cases: readonly PlotCase[]): Promise<string> {
  await writeFile(path.join(dir, file), await png(casesChart(cases)));
  return file;
}
