/**
 * EVAL.md's forecast-case charts (eval-worst.png, eval-shapes.png), as SVG before rasterising: what
 * a reader needs to tell when and what — a time axis in hours from the origin, the actual drawn
 * over the baseline so a baseline that follows it cannot hide it, and titles as text.
 */
import { casesChart } from '../src/eval/charts';
import type { PlotCase } from '../src/eval/run';

function plotCase(title: string): PlotCase {
  const history = Array.from({ length: 360 }, (_, i) => 20 + (i % 12));
  const actual = Array.from({ length: 96 }, () => 60);
  return {
    title,
    history,
    actual,
    p50: actual.map(() => 25),
    band: [actual.map(() => 20), actual.map(() => 30)],
    baseline: { name: 'seasonal naive 1w', values: actual.slice() },
  };
}

describe('eval forecast-case charts', () => {
  test('when a case is drawn, then its time axis reads hours from the origin: the history start, 0 and +8 h', () => {
    const svg = casesChart([plotCase('bbrnd-1 cpu')]);
    const ticks = [...svg.matchAll(/<text[^>]*font-size="9"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(ticks).toEqual(expect.arrayContaining(['−29.9 h', '0', '+8 h']));
    expect(svg).toContain('axis: hours from the origin');
  });

  test('when the baseline equals the actual, then the actual is drawn after it (on top)', () => {
    const svg = casesChart([plotCase('bbrnd-1 cpu')]);
    const baseline = svg.indexOf('stroke="#ff7f0e"');
    const actual = svg.lastIndexOf('stroke="#000"');
    expect(baseline).toBeGreaterThan(0);
    expect(actual).toBeGreaterThan(baseline);
  });

  test('when a title is long, then it is drawn smaller so it ends inside its panel', () => {
    const long = 'failed: shift-059 (level shift down, memory, conductor_mgmt): new level 24 %, the p50 leaves ±25 %';
    const size = (svg: string): number => Number(/<text x="45" y="16" font-size="([\d.]+)"/.exec(svg)![1]);
    expect(size(casesChart([plotCase('bbrnd-1 cpu')]))).toBe(10.5);
    expect(size(casesChart([plotCase(long)])) * long.length * (6 / 10.5)).toBeLessThanOrEqual(520 - 60 + 1);
  });

  test('when a title holds markup, then it is drawn as text', () => {
    const svg = casesChart([plotCase('<b>x</b> & y')]);
    expect(svg).toContain('&lt;b&gt;x&lt;/b&gt; &amp; y');
    expect(svg).not.toContain('<b>');
  });
});
