/**
 * /api/v1/instances/{instance}/forecast while a newer cycle runs: the cycle takes its window as
 * soon as the read succeeds (the one before is released), so the view must still draw the
 * history up to the published forecast's origin, not past it.
 */
import { forecastJson } from '../src/app/views';
import type { Runtime } from '../src/app/runtime';
import type { ForecastSnapshot } from '../src/exporter/exposition';
import type { HistoryWindow } from '../src/source/source';

const STEP = 300;
const DAY = 288;
const TD = 4;
const QUANTILES = [0.1, 0.5, 0.9];
// only what the view reads of the runtime
const rt = { manifest: { decoder_length: TD, quantiles: QUANTILES } } as unknown as Runtime;

function windowEndingAt(end: number, length: number): HistoryWindow {
  // value = minutes since the first point, so every point says where it came from
  const cpu = Float32Array.from({ length }, (_, k) => k);
  return { end, step: STEP, length, instances: new Map([['web1', { cpu }]]), dropped: {}, failed: [] };
}

function snapshotAt(origin: number): ForecastSnapshot {
  return {
    origin,
    quantileCount: QUANTILES.length,
    horizons: [],
    percentiles: [],
    instances: [
      {
        instance: 'web1',
        profile: 'web_api',
        ready: true,
        current: { cpu: 1 } as never,
        forecasts: { cpu: { quantiles: new Float32Array(TD * QUANTILES.length) } },
      },
    ],
    risk: new Map(),
    publication: {} as never,
  };
}

type Json = { origin: number; metrics: { cpu: { history: Array<[number, number | null]>; forecast: { times: number[] } } } };

describe('forecast view', () => {
  const origin = 1_790_000_100 - (1_790_000_100 % STEP);

  it('draws the last day up to the origin when the window ends there', () => {
    const j = forecastJson('web1', snapshotAt(origin), windowEndingAt(origin, 2 * DAY), rt) as Json;
    const h = j.metrics.cpu.history;
    expect(h).toHaveLength(DAY);
    expect(h[h.length - 1]).toEqual([origin, 2 * DAY - 1]);
    expect(h[0]![0]).toBe(origin - (DAY - 1) * STEP);
    expect(j.metrics.cpu.forecast.times[0]).toBe(origin + STEP);
  });

  it('stops the history at the published origin when a newer cycle has already read its window', () => {
    // the next cycle read two steps more; its forecasts are not published yet
    const j = forecastJson('web1', snapshotAt(origin), windowEndingAt(origin + 2 * STEP, 2 * DAY), rt) as Json;
    const h = j.metrics.cpu.history;
    expect(h).toHaveLength(DAY);
    expect(h[h.length - 1]).toEqual([origin, 2 * DAY - 3]);
    expect(h[0]).toEqual([origin - (DAY - 1) * STEP, DAY - 2]);
  });

  it('shows what there is when the window ends before the origin (the source is down, the snapshot carried over)', () => {
    const j = forecastJson('web1', snapshotAt(origin + 3 * STEP), windowEndingAt(origin, DAY / 2), rt) as Json;
    const h = j.metrics.cpu.history;
    expect(h).toHaveLength(DAY / 2);
    expect(h[h.length - 1]).toEqual([origin, DAY / 2 - 1]);
  });
});
