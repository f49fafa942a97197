import { formatBytesPerSecond, formatDuration, timeTicks, unitOf, yAxis } from './axes';

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 1, 12);

describe('units', () => {
  test('when a metric is formatted, then percent metrics read as %, network as bytes/s with SI prefixes, load as a plain number', () => {
    expect(['cpu', 'memory', 'disk', 'iowait'].map((m) => unitOf(m).format(85))).toEqual(['85%', '85%', '85%', '85%']);
    expect(unitOf('network').format(110e6)).toBe('110 MB/s');
    expect([0, 850, 12_500, 1.25e9].map(formatBytesPerSecond)).toEqual(['0 B/s', '850 B/s', '12.5 kB/s', '1.25 GB/s']);
    expect(unitOf('load').format(1.5)).toBe('1.5');
    expect(unitOf('load').label).toBe('load1 per core');
    expect(unitOf('cpu').label).toBe('% busy');
    expect(unitOf('custom').format(12.345)).toBe('12.3');
  });

  test('when lead times are formatted, then they read as hours and minutes', () => {
    expect([30, 45 * 60, 3600, 105 * 60].map(formatDuration)).toEqual(['30s', '45m', '1h', '1h45m']);
  });
});

describe('yAxis', () => {
  test('when percent values span 22–95, then the axis runs 0–100 in steps of 25 (percent axes never leave 0–100)', () => {
    expect(yAxis([22, 40, 95], { percent: true })).toEqual({ min: 0, max: 100, ticks: [0, 25, 50, 75, 100] });
  });

  test('when network values are around 110 MB/s, then ticks are round byte rates from 0', () => {
    expect(yAxis([60e6, 110e6, 125e6], { percent: false })).toEqual({
      min: 0,
      max: 150e6,
      ticks: [0, 50e6, 100e6, 150e6],
    });
  });

  test('when values sit far from zero, then the axis does not start at zero', () => {
    expect(yAxis([96.2, 97.9], { percent: true }, 4)).toEqual({ min: 96, max: 98, ticks: [96, 97, 98] });
  });

  test('when every value is the same, then the axis still has a span', () => {
    expect(yAxis([0, 0], { percent: true }).ticks).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});

describe('timeTicks', () => {
  const labels = (maxPast: number, maxFuture: number, start = NOW - 24 * H, end = NOW + 8 * H): string[] =>
    timeTicks(start, NOW, end, maxPast, maxFuture).map((t) => t.label);

  test('when a 24 h history and an 8 h forecast are drawn, then the ticks run from −24h through now to +8h', () => {
    expect(labels(4, 2)).toEqual(['−24h', '−18h', '−12h', '−6h', 'now', '+4h', '+8h']);
    expect(labels(8, 4)).toEqual([
      '−24h',
      '−21h',
      '−18h',
      '−15h',
      '−12h',
      '−9h',
      '−6h',
      '−3h',
      'now',
      '+2h',
      '+4h',
      '+6h',
      '+8h',
    ]);
    expect(timeTicks(NOW - 24 * H, NOW, NOW + 8 * H, 4, 2)[0]!.t).toBe(NOW - 24 * H);
  });

  test('when there is no room, then only "now" and the ends that fit remain', () => {
    expect(labels(1, 1)).toEqual(['−24h', 'now', '+8h']);
    expect(labels(0, 0)).toEqual(['now']);
    expect(labels(3, 3, NOW - 30 * 60_000, NOW + 30 * 60_000)).toEqual(['now']);
  });
});
