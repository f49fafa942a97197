/**
 * Where the forecasts come from and whether it answers, as data for the source-down state.
 * The Grafana panel reads it from the sidecar's self-monitoring series
 * (`foresight_source_up`, `foresight_last_success_timestamp_seconds`, `foresight_source_info`)
 * when the panel queries them; the preview page from `/api/v1/fleet`'s `source` object.
 */
import { type SeriesInput, lastValue } from '../series';
import { SERIES, type FleetSourceJson as SidecarSourceJson } from '@foresight/contract';

export interface SourceState {
  readonly type: 'simulator' | 'prometheus' | 'unknown';
  /** Base URL of the Prometheus-compatible API (never with credentials); null for the simulator or when unknown. */
  readonly url: string | null;
  readonly up: boolean;
  /** Unix ms of the first failed read of the current outage, when known. */
  readonly downSince: number | null;
  /** Unix ms of the last successful cycle, when known. */
  readonly lastSuccess: number | null;
  /** The last source error while down, when known. */
  readonly error: string | null;
}

export const SOURCE_UP = SERIES.sourceUp.name;
export const LAST_SUCCESS = SERIES.lastSuccess.name;
export const SOURCE_INFO = SERIES.sourceInfo.name;

/**
 * The source state from the self-monitoring series, or undefined when `foresight_source_up` is
 * not in the data. Down since: the first sample of the trailing run of zeros of
 * `foresight_source_up` (the start of the queried range when it was down all along).
 */
export function prepareSourceState(series: readonly SeriesInput[]): SourceState | undefined {
  const up = series.find((s) => s.name === SOURCE_UP && lastValue(s) !== undefined);
  if (!up) {
    return undefined;
  }
  const isUp = lastValue(up)!.value !== 0;
  let downSince: number | null = null;
  if (!isUp) {
    for (let i = up.values.length - 1; i >= 0; i--) {
      const v = up.values[i];
      if (v === null || v === undefined) {
        continue;
      }
      if (v !== 0) {
        break;
      }
      downSince = up.times[i]!;
    }
  }
  const success = series.find((s) => s.name === LAST_SUCCESS);
  const last = success ? lastValue(success) : undefined;
  const info = series.find((s) => s.name === SOURCE_INFO && lastValue(s)?.value === 1);
  const type = info?.labels['type'];
  return {
    type: type === 'simulator' || type === 'prometheus' ? type : 'unknown',
    url: info?.labels['url'] ? info.labels['url'] : null,
    up: isUp,
    downSince,
    lastSuccess: last && last.value > 0 ? last.value * 1000 : null,
    error: null,
  };
}

/** The sidecar's `/api/v1/fleet` `source` object (the contract's), read with `clock` optional. */
export type FleetSourceJson = Omit<SidecarSourceJson, 'clock'> & { readonly clock?: SidecarSourceJson['clock'] };

export function sourceFromFleet(s: FleetSourceJson): SourceState {
  return {
    type: s.type,
    url: s.url,
    up: s.up,
    downSince: s.downSince === null ? null : s.downSince * 1000,
    lastSuccess: s.lastSuccess === null ? null : s.lastSuccess * 1000,
    error: s.error,
  };
}

/** What the source is, in words: "Prometheus at http://prometheus:9090", "the simulated fleet". */
export function describeSource(s: Pick<SourceState, 'type' | 'url'>): string {
  if (s.type === 'simulator') {
    return 'the simulated fleet';
  }
  if (s.type === 'prometheus') {
    return s.url ? `Prometheus at ${s.url}` : 'Prometheus';
  }
  return s.url ? `the source at ${s.url}` : 'the metrics source';
}

/**
 * The source-down state as lines of text: which source, since when, the last success and the
 * error, and what is shown meanwhile. `formatTime` renders a unix-ms time; `now` for the ages.
 */
export function sourceDownLines(s: SourceState, formatTime: (ms: number) => string, now: number): string[] {
  const age = (ms: number): string => {
    const m = Math.max(0, Math.round((now - ms) / 60000));
    return m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ${m % 60} min ago`;
  };
  const lines = [
    `Source down: ${describeSource(s)} is not answering${s.downSince !== null ? ` since ${formatTime(s.downSince)} (${age(s.downSince)})` : ''}.`,
  ];
  lines.push(
    s.lastSuccess !== null
      ? `Last successful read: ${formatTime(s.lastSuccess)} (${age(s.lastSuccess)}); the views show the forecasts from then.`
      : 'No successful read yet: nothing has been forecast.'
  );
  if (s.error) {
    lines.push(`Error: ${s.error}`);
  }
  return lines;
}
