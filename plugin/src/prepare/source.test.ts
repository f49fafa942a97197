import type { SeriesInput } from '../series';
import { prepareSourceState, sourceDownLines, sourceFromFleet } from './source';

const s = (
  name: string,
  labels: Record<string, string>,
  times: number[],
  values: Array<number | null>
): SeriesInput => ({ name, labels, times, values });
const MIN = 60_000;
const T = Date.UTC(2026, 11, 1, 12);
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

describe('prepareSourceState', () => {
  test('when foresight_source_up turned 0, then the state names the source, when the outage began and the last success', () => {
    const state = prepareSourceState([
      s('foresight_source_up', {}, [T - 20 * MIN, T - 15 * MIN, T - 10 * MIN, T - 5 * MIN, T], [1, 1, 0, null, 0]),
      s('foresight_last_success_timestamp_seconds', {}, [T], [(T - 15 * MIN) / 1000]),
      s('foresight_source_info', { type: 'prometheus', url: 'http://prometheus:9090' }, [T], [1]),
    ]);
    expect(state).toEqual({
      type: 'prometheus',
      url: 'http://prometheus:9090',
      up: false,
      downSince: T - 10 * MIN,
      lastSuccess: T - 15 * MIN,
      error: null,
    });
    expect(sourceDownLines(state!, clock, T)).toEqual([
      'Source down: Prometheus at http://prometheus:9090 is not answering since 11:50 (10 min ago).',
      'Last successful read: 11:45 (15 min ago); the views show the forecasts from then.',
    ]);
  });

  test('when the source answers, or its series are not queried, then there is no down state', () => {
    expect(prepareSourceState([s('foresight_source_up', {}, [T], [1])])).toMatchObject({
      up: true,
      downSince: null,
      type: 'unknown',
    });
    expect(prepareSourceState([s('foresight_risk_score', { instance: 'a' }, [T], [1])])).toBeUndefined();
  });

  test("when the sidecar's fleet JSON says the source is down, then its times become ms and its error is shown", () => {
    const state = sourceFromFleet({
      type: 'prometheus',
      url: 'http://prom:9090',
      up: false,
      downSince: (T - 3 * MIN) / 1000,
      lastSuccess: (T - 65 * MIN) / 1000,
      error: 'timeout: no answer within 30s',
      clock: null,
    });
    expect(sourceDownLines(state, clock, T)).toEqual([
      'Source down: Prometheus at http://prom:9090 is not answering since 11:57 (3 min ago).',
      'Last successful read: 10:55 (1 h 5 min ago); the views show the forecasts from then.',
      'Error: timeout: no answer within 30s',
    ]);
  });
});
